import { ConfigError, loadConfig, readEnvironment } from './lib/config';
import { createLogger, summarizeError } from './lib/logger';
import { startServer } from './runtime';

/* Entry point: config → server → signals. Everything else lives behind createApp. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ config });
  /*
   * pg-boss 10 completes and fails jobs without awaiting the statement (manager.js, onFetch): a
   * database that drops at that moment rejects a promise nobody holds, and Node's default would
   * end the process and every request in flight with it. The job stays active and pg-boss expires
   * and retries it, so the error is logged (loudly) and the server keeps serving.
   */
  process.on('unhandledRejection', (reason) => {
    logger.error(`[PROCESS] Unhandled rejection, kept running: ${summarizeError(reason)}`);
  });
  const running = await startServer(config, logger);

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    // A drain that hangs (a stuck client, a dead database) must not keep the process forever.
    const force = setTimeout(() => {
      logger.error(`[SHUTDOWN] Still draining after ${config.SHUTDOWN_TIMEOUT_MS} ms; forcing exit`);
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    running
      .shutdown(signal)
      .then(() => process.exit(0))
      .catch((error) => {
        logger.error(`[SHUTDOWN] Failed: ${(error as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error) => {
  process.stderr.write(`Failed to start: ${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
