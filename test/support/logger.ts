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
