import { createLogger, type Logger, MemoryTransport } from '../../server/lib/logger';

/** A logger that keeps every entry in memory (and prints nothing) so tests can assert on logs. */
export function captureLogger(level = 'debug'): { logger: Logger; memory: MemoryTransport } {
  const memory = new MemoryTransport();
  const logger = createLogger({
    config: { NODE_ENV: 'test', LOG_LEVEL: level as 'debug' },
    transports: [memory],
    console: false,
  });
  return { logger, memory };
}

type LogEntry = Record<string, unknown>;

/**
 * Resolves with the first log entry matching `match` (a pattern for the message, or a test of
 * the whole entry): one already logged, unless `onlyNew`, or the next one to come.
 */
export function waitForLog(
  memory: MemoryTransport,
  match: RegExp | ((entry: LogEntry) => boolean),
  options: { timeoutMs?: number; onlyNew?: boolean } = {},
): Promise<LogEntry> {
  const { timeoutMs = 10_000, onlyNew = false } = options;
  const matches = typeof match === 'function' ? match : (entry: LogEntry) => match.test(String(entry.message));
  const seen = onlyNew ? undefined : memory.entries.find(matches);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      memory.off('entry', onEntry);
      reject(new Error(`no log entry matching ${match} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onEntry = (entry: LogEntry) => {
      if (!matches(entry)) return;
      clearTimeout(timer);
      memory.off('entry', onEntry);
      resolve(entry);
    };
    memory.on('entry', onEntry);
  });
}
