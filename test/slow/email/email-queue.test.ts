import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EmailModule, OutgoingEmail } from '../../../server/modules/email';
import { startTestApp, type TestApp } from '../../support/app';
import { createTestDatabase } from '../../support/database';
import { ManualClock } from '../../support/clock';
import { type FakeBrevo, startFakeBrevo } from '../../support/fake-brevo';
import { waitForLog } from '../../support/logger';
import { waitFor } from '../../support/wait-for';

let brevo: FakeBrevo;
beforeAll(async () => {
  brevo = await startFakeBrevo();
});
afterAll(() => brevo.close());
afterEach(() => {
  brevo.up();
  brevo.setDelay(0);
});

const brevoEnv = () => ({ BREVO_API_KEY: 'xkeysib-test-key', BREVO_API_URL: `${brevo.url}/v3`, JOBS_POLL_INTERVAL_MS: '500' });

function testMail(tag: string): OutgoingEmail {
  const id = randomBytes(5).toString('hex');
  return {
    kind: 'test',
    dedupeKey: `test:${tag}:${id}`,
    toEmail: `${tag}-${id}@example.com`,
    subject: `Test ${tag}`,
    text: 'Hello',
    html: '<p>Hello</p>',
  };
}

const emailOf = (t: TestApp) => t.app.modules.find((m) => m.name === 'email') as EmailModule;

async function enqueue(t: TestApp, mails: OutgoingEmail[]): Promise<void> {
  await t.database.transaction(async (unit) => {
    for (const mail of mails) await emailOf(t).enqueue(unit, mail);
  });
}

async function rowsOf(t: TestApp, mails: OutgoingEmail[]) {
  const { rows } = await t.database.pool.query(
    'SELECT id, to_email, status, attempts, last_error, provider_message_id FROM email_outbox WHERE dedupe_key = ANY($1) ORDER BY to_email',
    [mails.map((m) => m.dedupeKey)],
  );
  return rows as Array<{
    id: string;
    to_email: string;
    status: string;
    attempts: number;
    last_error: string | null;
    provider_message_id: string | null;
  }>;
}

const allRows = (t: TestApp, mails: OutgoingEmail[], accept: (row: Awaited<ReturnType<typeof rowsOf>>[number]) => boolean) =>
  waitFor(`${mails.length} outbox rows to match`, async () => {
    const rows = await rowsOf(t, mails);
    return rows.length === mails.length && rows.every(accept) && rows;
  });

describe('two instances on one database, a provider answering in 2 s per call', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { ...brevoEnv(), EMAIL_CONCURRENCY: '30' };
    a = await startTestApp({ env });
    b = await startTestApp({ env, testDatabase: a.testDatabase });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('100 queued mails each reach the provider exactly once, and every row ends sent with its message id', async () => {
    brevo.setDelay(2_000);
    const mails = Array.from({ length: 100 }, () => testMail('bulk'));
    // Half queued through each instance, so both have local work as well as polling.
    await Promise.all([enqueue(a, mails.slice(0, 50)), enqueue(b, mails.slice(50))]);
    const started = Date.now();
    const rows = await allRows(a, mails, (r) => r.status === 'sent');
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const row of rows) expect(row.provider_message_id).toMatch(/@smtp-relay/);
    for (const mail of mails) expect(brevo.sendsTo(mail.toEmail)).toHaveLength(1);
    // Both instances sent a share: the queue, not one instance, spread the work.
    const sentBy = (t: TestApp) => t.logs.lines().filter((l) => /\[EMAIL\] Sent test mail/.test(l)).length;
    // The row turns `sent` just before its worker logs it.
    await waitFor('a log line per sent mail', async () => sentBy(a) + sentBy(b) >= 100);
    expect(sentBy(a)).toBeGreaterThan(0);
    expect(sentBy(b)).toBeGreaterThan(0);
    expect(sentBy(a) + sentBy(b)).toBe(100);
  }, 30_000);
});

describe('one instance, short retry delays and a clock the test moves', () => {
  const clock = new ManualClock(Date.now());
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ deps: { clock }, env: { ...brevoEnv(), EMAIL_RETRY_DELAY_S: '1', EMAIL_RETRY_BACKOFF: 'false' } });
  });
  afterAll(() => t.close());

  it('a long provider outage only delays mail: after "30 minutes" of failures every mail is delivered once it returns', async () => {
    brevo.down();
    const mails = Array.from({ length: 5 }, () => testMail('outage'));
    await enqueue(t, mails);
    await allRows(t, mails, (r) => r.attempts >= 2 && r.status === 'pending');
    clock.advance(30 * 60_000);
    const rows = await allRows(t, mails, (r) => r.attempts >= 4);
    expect(rows.map((r) => r.status)).toEqual(mails.map(() => 'pending'));
    expect(rows[0]!.last_error).toMatch(/500|Internal/);
    brevo.up();
    await allRows(t, mails, (r) => r.status === 'sent' && r.provider_message_id !== null);
    for (const mail of mails) expect(brevo.delivered().filter((m) => m.to === mail.toEmail)).toHaveLength(1);
  });

  it('a permanent 4xx gives the mail up at once: failed with the reason, one request, no retry queued', async () => {
    const mail = testMail('refused');
    brevo.reject(mail.toEmail, 400);
    await enqueue(t, [mail]);
    const [row] = await allRows(t, [mail], (r) => r.status === 'failed');
    expect(row!.last_error).toMatch(/refused the mail \(400\)/);
    expect(row!.attempts).toBe(1);
    const jobs = await t.database.pool.query(`SELECT state FROM pgboss.job WHERE name = 'email-send' AND data->>'outboxId' = $1`, [
      row!.id,
    ]);
    expect(jobs.rows).toEqual([{ state: 'completed' }]);
    expect(brevo.sendsTo(mail.toEmail)).toHaveLength(1);
  });

  it('a mail the provider accepted but that could not be recorded is recorded later, never sent twice', async () => {
    await t.database.pool.query(`
      CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'sent' THEN RAISE EXCEPTION 'recording refused by the test'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_sent BEFORE UPDATE ON email_outbox FOR EACH ROW EXECUTE FUNCTION refuse_sent();`);
    try {
      const mail = testMail('unrecorded');
      await enqueue(t, [mail]);
      const [{ id }] = (await t.database.pool.query('SELECT id FROM email_outbox WHERE dedupe_key = $1', [mail.dedupeKey])).rows;
      await waitForLog(t.logs, new RegExp(`mail ${id} was accepted .* but recording it failed`));
      // The job is retried (pg-boss) and fails again on the record alone.
      await waitForLog(t.logs, /\[JOBS\] email-send job .* failed \(attempt 2\): .*a query failed \(SQLSTATE P0001\)/, {
        timeoutMs: 10_000,
      });
      expect((await rowsOf(t, [mail]))[0]!.status).toBe('pending');
      await t.database.pool.query('DROP TRIGGER refuse_sent ON email_outbox; DROP FUNCTION refuse_sent();');
      const [row] = await allRows(t, [mail], (r) => r.status === 'sent');
      expect(row!.provider_message_id).toMatch(/@smtp-relay/);
      expect(brevo.sendsTo(mail.toEmail)).toHaveLength(1);
    } finally {
      await t.database.pool.query('DROP TRIGGER IF EXISTS refuse_sent ON email_outbox; DROP FUNCTION IF EXISTS refuse_sent();');
    }
  });

  it('a mail enqueued in a unit of work that rolls back leaves no row and no job, and is never sent', async () => {
    const jobCount = async () =>
      (await t.database.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'email-send'`)).rows[0].n as number;
    const before = await jobCount();
    const rolledBack = testMail('rolled-back');
    await expect(
      t.database.transaction(async (unit) => {
        await emailOf(t).enqueue(unit, rolledBack);
        throw new Error('the event failed');
      }),
    ).rejects.toThrow('the event failed');
    expect(await rowsOf(t, [rolledBack])).toEqual([]);
    expect(await jobCount()).toBe(before);
    // A committed mail queued afterwards is delivered; the rolled-back one never is.
    const committed = testMail('committed');
    await enqueue(t, [committed]);
    await brevo.waitForDelivered(1, committed.toEmail);
    expect(brevo.sendsTo(rolledBack.toEmail)).toEqual([]);
  });

  it('enqueueing a mail twice (a redelivered event) sends it once', async () => {
    const mail = testMail('twice');
    await enqueue(t, [mail]);
    await enqueue(t, [mail]);
    await allRows(t, [mail], (r) => r.status === 'sent');
    expect(brevo.sendsTo(mail.toEmail)).toHaveLength(1);
    const jobs = await t.database.pool.query(
      `SELECT count(*)::int AS n FROM pgboss.job j JOIN email_outbox o ON o.id::text = j.data->>'outboxId' WHERE j.name = 'email-send' AND o.dedupe_key = $1`,
      [mail.dedupeKey],
    );
    expect(jobs.rows[0].n).toBe(1);
  });
});

describe('giving up on age, and the redrive', () => {
  const clock = new ManualClock(Date.now());
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      deps: { clock },
      env: { ...brevoEnv(), EMAIL_RETRY_DELAY_S: '1', EMAIL_RETRY_BACKOFF: 'false', EMAIL_GIVE_UP_AFTER_S: '3600' },
    });
  });
  afterAll(() => t.close());

  it('a mail still failing past EMAIL_GIVE_UP_AFTER_S is given up; npm run email:redrive queues it again and it is delivered', async () => {
    brevo.down();
    const mail = testMail('aged');
    await enqueue(t, [mail]);
    await allRows(t, [mail], (r) => r.attempts >= 1 && r.last_error !== null);
    // An hour and a second after it was queued (the clock the sender reads; pg-boss keeps the queue time).
    clock.set(Date.now() + 3_601_000);
    const [failed] = await allRows(t, [mail], (r) => r.status === 'failed');
    expect(failed!.last_error).toMatch(/still failing \d+ s after it was queued/);
    const jobs = await t.database.pool.query(`SELECT state FROM pgboss.job WHERE name = 'email-send' AND data->>'outboxId' = $1`, [
      failed!.id,
    ]);
    expect(jobs.rows).toEqual([{ state: 'completed' }]);
    const health = await t.request.get('/api/health').expect(200);
    expect(health.body.components.email).toMatchObject({ status: 'degraded', failed: 1 });

    brevo.up();
    // The redrive's fresh job is young again; the clock moves back so its age counts from now.
    clock.set(Date.now());
    const output = await runRedrive(t.testDatabase.url);
    expect(output).toContain('Re-queued 1 given-up e-mail');
    const [sent] = await allRows(t, [mail], (r) => r.status === 'sent');
    expect(sent!.provider_message_id).toMatch(/@smtp-relay/);
    expect(brevo.delivered().filter((m) => m.to === mail.toEmail)).toHaveLength(1);
  }, 20_000);
});

describe('one mail, several jobs: the claim on the row decides', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...brevoEnv(), EMAIL_RETRY_DELAY_S: '1', EMAIL_RETRY_BACKOFF: 'false' } });
  });
  afterAll(() => t.close());

  const jobStates = async (outboxId: string) =>
    (await t.database.pool.query(`SELECT state FROM pgboss.job WHERE name = 'email-send' AND data->>'outboxId' = $1`, [outboxId])).rows.map(
      (r: { state: string }) => r.state,
    );

  it('a second job for a mail already being sent (a retry racing the first attempt) waits for the claim and never sends it again', async () => {
    brevo.setDelay(1_000);
    const mail = testMail('raced');
    await enqueue(t, [mail]);
    await brevo.waitForRequests(1, (r) => r.path === '/v3/smtp/email' && r.text.includes(mail.toEmail));
    const [{ id }] = await rowsOf(t, [mail]);
    await t.app.jobs.sendNow('email-send', { outboxId: id });
    await allRows(t, [mail], (row) => row.status === 'sent');
    await waitFor('both jobs to complete', async () => {
      const states = await jobStates(id!);
      return states.length === 2 && states.every((s) => s === 'completed');
    });
    expect(brevo.sendsTo(mail.toEmail)).toHaveLength(1);
    expect((await rowsOf(t, [mail]))[0]!.attempts).toBe(1);
  });

  it('a pending mail with no job (queued by an earlier release) gets one from the sweep, once; a mail whose job is retrying does not', async () => {
    const orphan = testMail('orphan');
    await t.database.pool.query(
      `INSERT INTO email_outbox (kind, dedupe_key, to_email, subject, html, text, last_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() - interval '1 hour')`,
      [orphan.kind, orphan.dedupeKey, orphan.toEmail, orphan.subject, orphan.html, orphan.text],
    );
    brevo.reject('nobody@example.com', 500);
    const retrying = { ...testMail('retrying'), toEmail: 'nobody@example.com' };
    await enqueue(t, [retrying]);
    await brevo.waitForRequests(1, (r) => r.path === '/v3/smtp/email' && r.text.includes('nobody@example.com'));
    await t.database.pool.query(`UPDATE email_outbox SET last_attempt_at = now() - interval '1 hour' WHERE dedupe_key = $1`, [
      retrying.dedupeKey,
    ]);

    const email = emailOf(t);
    expect(await email.requeueStrandedEmail()).toBe(1);
    await allRows(t, [orphan], (row) => row.status === 'sent');
    expect(brevo.sendsTo(orphan.toEmail)).toHaveLength(1);
    expect(await email.requeueStrandedEmail()).toBe(0);
  });

  it('a mail whose job the queue refused (queue table failing) still commits with its cause, and the sweep sends it later', async () => {
    // Only this test's mail is refused: the retrying mail of the test before keeps failing (and
    // pg-boss re-inserts its job on each failure, without awaiting it) while the trigger exists.
    await t.database.pool.query(`
      CREATE FUNCTION refuse_email_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM email_outbox WHERE id::text = NEW.data->>'outboxId' AND to_email LIKE 'queue-down-%') THEN
          RAISE EXCEPTION 'job table unavailable (test)';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_email_jobs BEFORE INSERT ON pgboss.job FOR EACH ROW
      WHEN (NEW.name = 'email-send') EXECUTE FUNCTION refuse_email_jobs();`);
    const address = `queue-down-${randomBytes(4).toString('hex')}@example.com`;
    try {
      await t.request.post('/api/auth/register').send({ email: address, password: 'a long password', name: 'Patient' }).expect(201);
      await waitForLog(t.logs, /Could not queue welcome mail .*stranded-mail sweep will/);
    } finally {
      await t.database.pool.query('DROP TRIGGER refuse_email_jobs ON pgboss.job; DROP FUNCTION refuse_email_jobs();');
    }
    const { rows } = await t.database.pool.query(`SELECT id, status FROM email_outbox WHERE to_email = $1 AND kind = 'welcome'`, [address]);
    expect(rows).toEqual([{ id: expect.any(String), status: 'pending' }]);
    expect(await jobStates(rows[0].id)).toEqual([]);

    await t.database.pool.query(`UPDATE email_outbox SET last_attempt_at = now() - interval '1 hour' WHERE id = $1`, [rows[0].id]);
    expect(await emailOf(t).requeueStrandedEmail()).toBe(1);
    await brevo.waitForDelivered(1, address);
    expect(brevo.sendsTo(address)).toHaveLength(1);
  });
});

describe('shutdown', () => {
  it('a send in flight when the app stops finishes and is recorded; the stop waits for it, not for pg-boss defaults', async () => {
    const database = await createTestDatabase();
    try {
      const t = await startTestApp({ testDatabase: database, env: brevoEnv() });
      brevo.setDelay(1_500);
      const mail = testMail('in-flight');
      await enqueue(t, [mail]);
      await brevo.waitForRequests(1, (r) => r.path === '/v3/smtp/email' && r.text.includes(mail.toEmail));
      const stopping = Date.now();
      await t.close();
      const took = Date.now() - stopping;
      expect(took).toBeGreaterThan(500);
      expect(took).toBeLessThan(4_000);
      const check = await startTestApp({ testDatabase: database });
      try {
        expect((await rowsOf(check, [mail]))[0]).toMatchObject({
          status: 'sent',
          provider_message_id: expect.stringMatching(/@smtp-relay/),
        });
        const jobs = await check.database.pool.query(`SELECT state FROM pgboss.job WHERE name = 'email-send'`);
        expect(jobs.rows).toEqual([{ state: 'completed' }]);
      } finally {
        await check.close();
      }
    } finally {
      await database.drop();
    }
  });
});

/** `npm run email:redrive` as the operator runs it: tsx in a child process. */
function runRedrive(databaseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/email-redrive.ts'], {
      cwd: path.resolve(__dirname, '../../..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    child.on('error', reject);
    // 'close', not 'exit': the output pipes are drained and closed too.
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`email:redrive exited ${code}:\n${output}`))));
  });
}
