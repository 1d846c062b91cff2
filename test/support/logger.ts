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

/** Resolves with the first log entry (already logged or future) whose message matches. */
export function waitForLog(memory: MemoryTransport, pattern: RegExp, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const matches = (entry: Record<string, unknown>) => pattern.test(String(entry.message));
  const seen = memory.entries.find(matches);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      memory.off('entry', onEntry);
      reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onEntry = (entry: Record<string, unknown>) => {
      if (!matches(entry)) return;
      clearTimeout(timer);
      memory.off('entry', onEntry);
      resolve(entry);
    };
    memory.on('entry', onEntry);
  });
}
