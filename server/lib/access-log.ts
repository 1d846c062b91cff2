import pino from 'pino';
import type { Logger } from './logger';

/** One line per finished request (issue 18: at info, with the client IP and the user). */
export interface AccessEntry {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  ip: string | undefined;
  requestId: string | undefined;
  userId: string | undefined;
  /** The client hung up before the response finished (a download it stopped reading). */
  aborted?: true;
}

export interface AccessLog {
  write(entry: AccessEntry): void;
  /** Writes out what is buffered (before the process exits). */
  flush(): void;
}

export const ACCESS_LOG_MESSAGE = '[HTTP] request';
const FLUSH_INTERVAL_MS = 1_000;

/**
 * The access line through the app's winston logger: development (readable next to the other
 * lines) and tests (captured with them). Undefined when the logger's level drops info lines.
 */
export function accessLogThroughLogger(logger: Logger): AccessLog | undefined {
  if (!logger.isLevelEnabled('info')) return undefined;
  return {
    write: (entry) => logger.info(ACCESS_LOG_MESSAGE, { component: 'HTTP', ...entry }),
    flush: () => {},
  };
}

/*
 * Production writes the access line with pino, not winston: a winston line runs its format chain
 * and an object-mode stream, pino serialises one flat object into a buffered stdout writer —
 * 5 µs a line against 11–12 µs in a tight loop on the development machine, and less CPU per
 * request in bench/logging-cost.ts (numbers in bench/README.md). The line has the shape of the
 * winston JSON lines around it (level, message, timestamp, service, component), so one log
 * query finds both.
 */
export function createJsonAccessLog(options: {
  level: string;
  /** Where lines go: a file descriptor or path; stdout (fd 1) by default. */
  destination?: number | string;
}): AccessLog | undefined {
  // Our levels are winston's (npm): info and anything chattier keep the access line.
  if (['error', 'warn'].includes(options.level)) return undefined;
  // Buffered up to 4 KiB (a burst of lines is one write); a quiet server's lines go out within
  // FLUSH_INTERVAL_MS all the same, and flush() empties the buffer before exit.
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false, minLength: 4096 });
  let open = false;
  destination.once('ready', () => {
    open = true;
  });
  // A closed stdout (the log collector went away: EPIPE) loses access lines, never the server: an
  // 'error' event without a listener would be thrown out of a response's close handler.
  destination.on('error', () => {});
  const flusher = setInterval(() => {
    try {
      if (open) destination.flush();
    } catch {
      // A log line lost to a closed stdout is not worth the process.
    }
  }, FLUSH_INTERVAL_MS);
  flusher.unref();
  const logger = pino(
    {
      level: 'info',
      base: { service: 'marketplace' },
      messageKey: 'message',
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    },
    destination,
  );
  return {
    write: (entry) => logger.info({ component: 'HTTP', ...entry }, ACCESS_LOG_MESSAGE),
    flush: () => {
      // Before its file is open there is nothing written yet to flush (sonic-boom throws).
      if (open) destination.flushSync();
    },
  };
}
