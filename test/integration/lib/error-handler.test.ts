import { sql } from 'drizzle-orm';
import express from 'express';
import supertest from 'supertest';
import { errorHandler } from '../../../server/lib/error-handler';
import { describeError } from '../../../server/lib/job-queue';
import { startTestApp, type TestApp } from '../../support/app';
import { openStore } from '../../support/catalogue';
import { captureLogger } from '../../support/logger';
import { registerUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';

/*
 * Control characters in any text input are a 400, never a database error; a data error that
 * still reaches Postgres is a 400 too; and a failed query is logged by its SQLSTATE, never with
 * its SQL text or bound parameters.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const logText = () => t.logs.lines().join('\n');

describe('control characters in text input', () => {
  it.each(['%00', 'a%00b', '%01', 'shoes%1b%5b31m', 'two%0alines'])(
    'when an anonymous search carries q=%s, then it is a 400',
    async (q) => {
      const res = await t.request.get(`/api/products?q=${q}`).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
    },
  );

  it.each([
    ['a NUL in the name', { name: 'Eve\u0000' }],
    ['an escape in the name', { name: 'Eve\u001b[31m' }],
    ['a line break in the name', { name: 'Eve\nVisit http://x' }],
    ['a NUL in the e-mail', { email: 'nul\u0000-user@example.com' }],
  ])(
    'when registration carries %s, then it is a 400 and the log holds neither the e-mail nor a password hash',
    async (_label, override) => {
      const email = `ctl-${Math.random().toString(36).slice(2)}@example.com`;
      const res = await t.request
        .post('/api/auth/register')
        .send({ email, password: 'correct horse battery staple', name: 'Eve', ...override })
        .expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(logText()).not.toContain(email);
      expect(logText()).not.toContain('$argon2');
      const rows = await t.database.pool.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
      expect(rows.rows[0].n).toBe(0);
    },
  );

  it('when a product description has line breaks and tabs, then they are kept; other control characters are refused', async () => {
    const { cookie } = await openStore(t.request);
    const created = await t.request
      .post('/api/products')
      .set('Cookie', cookie)
      .send({ title: 'Lamp', description: 'Line one\n\tLine two', priceCents: 100 })
      .expect(201);
    expect(created.body.product.description).toBe('Line one\n\tLine two');
    const refused = await t.request
      .post('/api/products')
      .set('Cookie', cookie)
      .send({ title: 'Lamp', description: 'bell\u0007', priceCents: 100 });
    expect(refused.status).toBe(400);
  });

  it('when a chat message body holds a NUL, then the sender gets validation_failed and the body is not logged', async () => {
    const base = await t.listen();
    const [alice, bob] = [await registerUser(t.request), await registerUser(t.request)];
    const ws = await TestWsClient.connect(base, { cookie: alice.cookie });
    try {
      ws.send({ type: 'message.send', to: bob.id, body: 'secret-chat-body\u0000', clientId: 'c1' });
      const error = await ws.next('error');
      expect(error).toMatchObject({ code: 'validation_failed', clientId: 'c1' });
      expect(logText()).not.toContain('secret-chat-body');
      const rows = await t.database.pool.query('SELECT count(*)::int AS n FROM messages WHERE sender_id = $1', [alice.id]);
      expect(rows.rows[0].n).toBe(0);
    } finally {
      ws.socket.close();
      await ws.closed;
    }
  });
});

describe('database errors reaching the error handler', () => {
  // The real error handler behind a route whose query fails in real Postgres, with its own log capture.
  async function failingRequest(query: () => Promise<unknown>) {
    const { logger, memory } = captureLogger();
    const app = express();
    app.get('/fail', async () => {
      await query();
    });
    app.use(errorHandler(logger));
    const res = await supertest(app).get('/fail');
    return { res, log: memory.lines().join('\n') };
  }

  it.each([
    ['22P02 (text for a uuid)', '22P02', () => t.database.db.execute(sql`SELECT ${'private-value@example.com'}::uuid`)],
    ['22021 (NUL in text)', '22021', () => t.database.db.execute(sql`SELECT convert_from(${Buffer.from('private-value\u0000')}, 'UTF8')`)],
    ['22003 (number out of range)', '22003', () => t.database.db.execute(sql`SELECT ${'99999999999'}::int4`)],
  ])(
    'when Postgres refuses a value with %s, then the answer is 400 invalid_input and nothing logged quotes it',
    async (_label, code, query) => {
      const { res, log } = await failingRequest(query);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_input', details: { sqlState: code } });
      expect(res.text).not.toContain('private-value');
      expect(res.text).not.toContain('SELECT');
      expect(log).not.toContain('private-value');
      expect(log).not.toContain('SELECT');
    },
  );

  it('when a query fails unexpectedly, then the 500 is logged with its SQLSTATE, table and stack, without the SQL or its parameters', async () => {
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
    const { res, log } = await failingRequest(() =>
      t.database.db.execute(sql`INSERT INTO users (email, password_hash, name) VALUES (${'leak@example.com'}, ${hash}, NULL)`),
    );
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal_error');
    expect(log).toContain('23502');
    expect(log).toContain('"table":"users"');
    expect(log).toContain('error-handler.test.ts');
    expect(log).not.toContain('leak@example.com');
    expect(log).not.toContain('$argon2');
    expect(log).not.toMatch(/insert into/i);
  });

  it('when a failed query is interpolated into a log line elsewhere (a job, a WebSocket frame), then its SQL and parameters are withheld', async () => {
    const { logger, memory } = captureLogger();
    const error = await t.database.db
      .execute(sql`SELECT ${'line one of a private chat\nline two'}::text, ${'leak@example.com'}::uuid`)
      .then(() => undefined)
      .catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    logger.error(`[WS] message.send failed: ${error!.message}`);
    logger.warn(`[JOBS] email-send job failed: ${describeError(error)}`, { stack: error!.stack });
    const log = memory.lines().join('\n');
    expect(log).toContain('Failed query: [SQL and parameters withheld]');
    expect(log).not.toContain('private chat');
    expect(log).not.toContain('line two');
    expect(log).not.toContain('leak@example.com');
  });
});
