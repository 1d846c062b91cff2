import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import connectPgSimple from 'connect-pg-simple';
import express from 'express';
import session from 'express-session';
import type pg from 'pg';
import { createApp } from '../server/app';
import { loadConfig } from '../server/lib/config';
import { serveOnLoopback } from './support/load';
import { startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const READS = 1_000;

async function installWriteCounter(pool: pg.Pool): Promise<() => Promise<number>> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS session_write_log (at timestamptz NOT NULL DEFAULT now());
    CREATE OR REPLACE FUNCTION log_session_write() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO session_write_log DEFAULT VALUES; RETURN NULL; END $$;
    CREATE TRIGGER session_write_counter AFTER INSERT OR UPDATE ON session_store
      FOR EACH ROW EXECUTE FUNCTION log_session_write();`);
  return async () => Number((await pool.query('SELECT count(*) AS n FROM session_write_log')).rows[0].n);
}

function cookieFrom(res: Response): string {
  const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
  if (!sid) throw new Error('no session cookie');
  return sid.split(';')[0]!;
}

/** Signed-in reads against a server; returns the session-table writes they caused. */
async function measureReads(url: string, cookie: string, writes: () => Promise<number>): Promise<number> {
  const before = await writes();
  for (let i = 0; i < READS; i++) {
    const res = await fetch(`${url}/api/auth/me`, { headers: { cookie } });
    if (res.status !== 200) throw new Error(`read ${i} answered ${res.status}`);
    await res.arrayBuffer();
  }
  return (await writes()) - before;
}

export async function runSessionWritesBench(): Promise<BenchResult[]> {
  const postgres = await startBenchPostgres();
  try {
    // Ours: the real app (touch-after store on its own pool).
    const ours = await postgres.createDatabase('bench_sessions_ours');
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: ours.url,
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-bench-data-')),
      RATE_LIMIT_READS_PER_MIN: '1000000',
      RATE_LIMIT_WRITES_PER_MIN: '1000000',
      RATE_LIMIT_AUTH_PER_MIN: '1000000',
    });
    const app = createApp({ config, logger: postgres.logger, database: ours.database, sessionDatabase: ours.database });
    await app.start();
    const oursServer = await serveOnLoopback(app.express);
    const stopOurs = postgres.beforeStop(async () => {
      await oursServer.close();
      await app.beginShutdown();
      await app.stop();
    });
    const oursWrites = await installWriteCounter(ours.database.pool);
    const registered = await fetch(`${oursServer.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Random, so the password policy (no e-mail or name inside, hard to guess) never refuses it.
      body: JSON.stringify({ email: 'bench@example.com', password: randomBytes(18).toString('base64url'), name: 'Bench' }),
    });
    if (registered.status !== 201) throw new Error(`registration answered ${registered.status}`);
    const oursCount = await measureReads(oursServer.url, cookieFrom(registered), oursWrites);
    await stopOurs();

    // Stock: express-session + connect-pg-simple as their READMEs configure them.
    const stock = await postgres.createDatabase('bench_sessions_stock');
    const PgStore = connectPgSimple(session);
    const store = new PgStore({ pool: stock.database.pool, tableName: 'session_store' });
    const stockApp = express();
    stockApp.use(
      session({ name: 'sid', secret: 'bench-secret-bench-secret-bench-secret', store, resave: false, saveUninitialized: false }),
    );
    stockApp.post('/api/auth/login', (req, res) => {
      (req.session as unknown as { userId: string }).userId = 'bench';
      res.json({ ok: true });
    });
    stockApp.get('/api/auth/me', (req, res) => {
      const userId = (req.session as unknown as { userId?: string }).userId;
      res.status(userId ? 200 : 401).json({ userId });
    });
    const stockServer = await serveOnLoopback(stockApp);
    const stockWrites = await installWriteCounter(stock.database.pool);
    const login = await fetch(`${stockServer.url}/api/auth/login`, { method: 'POST' });
    const stockCount = await measureReads(stockServer.url, cookieFrom(login), stockWrites);
    await stockServer.close();
    store.close();

    return [
      {
        name: `session writes per ${READS} signed-in reads`,
        value: oursCount,
        baseline: stockCount,
        ratio: stockCount === 0 ? undefined : oursCount / stockCount,
        unit: 'writes',
        target: '≤ 1 write (stock connect-pg-simple: one per read)',
        pass: oursCount <= 1,
      },
    ];
  } finally {
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runSessionWritesBench);
