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
 * Production writes the access line with pino, not winston: measured in bench/logging-cost.ts,
 * a winston line costs ~30 µs of server CPU per request (its format chain and object-mode
 * stream), more than Express's whole hello-world; pino serialises one flat object straight into
 * a buffered stdout writer. The line has the shape of the winston JSON lines around it (level,
 * message, timestamp, service, component), so one log query finds both.
 */
export function createJsonAccessLog(options: {
  level: string;
  /** Where lines go: a file descriptor or path; stdout (fd 1) by default. */
  destination?: number | string;
}): AccessLog | undefined {
  // Our levels are winston's (npm): info and anything chattier keep the access line.
  if (['error', 'warn'].includes(options.level)) return undefined;
  // Buffered up to 4 KiB (a burst of lines is one write); flush() empties it before exit.
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false, minLength: 4096 });
  let open = false;
  destination.once('ready', () => {
    open = true;
  });
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
