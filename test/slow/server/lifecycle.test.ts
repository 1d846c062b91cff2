import http from 'node:http';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { createPostgresCluster } from '../../support/postgres-cluster';
import { freePort } from '../../support/ports';
import { pollUntil, type ServerProcess, spawnServer } from '../../support/server-process';

const running = new Set<ServerProcess>();
async function start(env: Record<string, string>, options: { processGroup?: boolean } = {}): Promise<ServerProcess> {
  const server = await spawnServer(env, options);
  running.add(server);
  void server.exited.then(() => running.delete(server));
  return server;
}
afterAll(async () => {
  for (const s of running) s.kill('SIGKILL');
});

describe('zero-config development start', () => {
  it('with no DATABASE_URL, starts an embedded PostgreSQL, serves health, and keeps the data across a restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mp-dev-'));
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };

    const first = await start(env);
    await first.waitForOutput('[SERVER] Ready at', 30_000);
    expect((await fetch(`${first.url}/api/health`)).status).toBe(200);
    // Leave a mark in the embedded database.
    const db = new pg.Client({ connectionString: `postgresql://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/marketplace` });
    await db.connect();
    await db.query(`INSERT INTO users (email, password_hash, name) VALUES ('kept@example.com', 'x', 'Kept')`);
    await db.end();
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = await start(env);
    await second.waitForOutput('[SERVER] Ready at', 30_000);
    expect(second.output()).not.toContain('Initialising embedded PostgreSQL');
    const health = await fetch(`${second.url}/api/health`);
    expect(health.status).toBe(200);
    const again = new pg.Client({ connectionString: `postgresql://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/marketplace` });
    await again.connect();
    const { rows } = await again.query(`SELECT name FROM users WHERE email = 'kept@example.com'`);
    await again.end();
    expect(rows).toEqual([{ name: 'Kept' }]);
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('Ctrl-C and crashes in development', () => {
  it('a crashed run leaves no database holding the port for the next; Ctrl-C to the process group exits 0 with no error line and stops PostgreSQL', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mp-dev-'));
    const pgPort = await freePort();
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };

    const crashed = await start(env);
    await crashed.waitForOutput('[SERVER] Ready at', 30_000);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    // The database runs in its own session: the crash (like Ctrl-C) does not reach it.
    expect(await portIsFree(pgPort)).toBe(false);

    const next = await start(env, { processGroup: true });
    await next.waitForOutput('[SERVER] Ready at', 30_000);
    expect(next.output()).toContain('an earlier dev run left running');
    expect((await fetch(`${next.url}/api/health/ready`)).status).toBe(200);

    next.kill('SIGINT');
    expect((await next.exited).code).toBe(0);
    expect(next.output()).toContain('[SHUTDOWN] Done');
    // Level names may be coloured (an escape sequence between "error" and the colon).
    expect(
      next
        .output()
        .split('\n')
        .filter((line) => /error[^:\s]{0,6}:|ERROR|Connection lost/.test(line)),
    ).toEqual([]);
    expect(await portIsFree(pgPort)).toBe(true);
  });
});

describe('production start', () => {
  it('refuses to start on a dev config and names every problem', async () => {
    const server = await start({ NODE_ENV: 'production', SESSION_SECRET: 'short' });
    const { code } = await server.exited;
    expect(code).toBe(1);
    for (const name of ['DATABASE_URL', 'SESSION_SECRET', 'STRIPE_SECRET_KEY', 'BREVO_API_KEY']) expect(server.output()).toContain(name);
  });
});

describe('database outage', () => {
  it('when Postgres stops, /api/health turns 503 within 15 s without the process dying; when it returns, 200 within 30 s', async () => {
    const cluster = await createPostgresCluster();
    cluster.start();
    try {
      const server = await start({ DATABASE_URL: cluster.url, DB_HEALTH_INTERVAL: '1000' });
      await server.waitForOutput('[SERVER] Ready at');
      const check = new pg.Client({ connectionString: cluster.url });
      await check.connect();
      const tables = await check.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('users','products','orders','session_store')`,
      );
      await check.end();
      expect(tables.rows[0].n).toBe(4);
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);

      cluster.stop();
      const downAfter = await pollUntil(`${server.url}/api/health`, (s) => s === 503, 15_000);
      expect(downAfter).toBeLessThan(15_000);
      const body = (await (await fetch(`${server.url}/api/health`)).json()) as { components: { database: { status: string } } };
      expect(body.components.database.status).toBe('down');
      expect(server.child.exitCode).toBeNull();
      expect((await fetch(`${server.url}/api/health/ready`)).status).toBe(503);

      cluster.start();
      const upAfter = await pollUntil(`${server.url}/api/health`, (s) => s === 200, 30_000);
      expect(upAfter).toBeLessThan(30_000);
      expect(server.child.exitCode).toBeNull();
      server.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    } finally {
      try {
        cluster.stop();
      } catch {
        // already stopped
      }
    }
  });
});

describe('graceful shutdown', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(() => testDb.drop());

  it('SIGTERM while a request is in flight: the request completes with Connection: close, then exit 0 within 10 s', async () => {
    const server = await start({ DATABASE_URL: testDb.url });
    await server.waitForOutput('[SERVER] Ready at');
    const url = new URL(server.url);

    // Expect: 100-continue makes the server acknowledge the request before we send the body,
    // so we know it is in flight when the signal arrives.
    const body = JSON.stringify({ hello: 'world' });
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      // A route that reads the body: it stays in flight until the body arrives.
      path: '/api/auth/login',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    const response = new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
      });
      req.on('error', reject);
    });
    await new Promise<void>((resolve) => req.on('continue', () => resolve()));
    const signalledAt = Date.now();
    server.kill('SIGTERM');
    await server.waitForOutput('[SHUTDOWN] SIGTERM: draining');
    req.end(body);

    const res = await response;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('validation_failed');
    expect(res.connection).toBe('close');
    const { code } = await server.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
  });
});
