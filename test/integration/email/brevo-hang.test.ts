import { randomBytes } from 'node:crypto';
import type { EmailModule, OutgoingEmail } from '../../../server/modules/email';
import { startTestApp, type TestApp } from '../../support/app';
import { type FakeBrevo, startFakeBrevo } from '../../support/fake-brevo';
import { waitForLog } from '../../support/logger';
import { waitFor } from '../../support/wait-for';

/* A Brevo that accepts the connection and the request and never answers: each attempt must end by EMAIL_SEND_TIMEOUT_S. */

const SEND_TIMEOUT_S = 1;

let brevo: FakeBrevo;
let t: TestApp;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  t = await startTestApp({
    env: {
      BREVO_API_KEY: 'xkeysib-test-key',
      BREVO_API_URL: `${brevo.url}/v3`,
      JOBS_POLL_INTERVAL_MS: '500',
      EMAIL_SEND_TIMEOUT_S: String(SEND_TIMEOUT_S),
      EMAIL_RETRY_DELAY_S: '1',
      EMAIL_RETRY_BACKOFF: 'false',
    },
  });
});
afterAll(async () => {
  await t.close();
  await brevo.close();
});

const emailOf = (app: TestApp) => app.app.modules.find((m) => m.name === 'email') as EmailModule;

it('when Brevo never answers, then each attempt fails within EMAIL_SEND_TIMEOUT_S and is retried; after recovery the mail is sent once', async () => {
  await brevo.setFault('hang');
  const id = randomBytes(5).toString('hex');
  const mail: OutgoingEmail = {
    kind: 'test',
    dedupeKey: `test:hang:${id}`,
    toEmail: `hang-${id}@example.com`,
    subject: 'Hung provider',
    text: 'Hello',
    html: '<p>Hello</p>',
  };
  const toThisMail = (r: { method: string; path: string; json<T>(): T }) =>
    r.method === 'POST' && r.path === '/v3/smtp/email' && r.json<{ to: Array<{ email: string }> }>().to[0]?.email === mail.toEmail;
  await t.database.transaction((unit) => emailOf(t).enqueue(unit, mail));

  // The first attempt reaches Brevo and hangs; it must give up within the timeout (plus slack), not hold the worker.
  await brevo.waitForRequests(1, toThisMail);
  const sentAt = Date.now();
  const failure = await waitForLog(t.logs, /mail \S+ attempt 1 failed/, { timeoutMs: 20_000 });
  const elapsed = Date.now() - sentAt;
  expect(elapsed).toBeGreaterThanOrEqual(SEND_TIMEOUT_S * 1000 - 100);
  expect(elapsed).toBeLessThan(SEND_TIMEOUT_S * 1000 + 2_000);
  expect(String(failure.message)).toMatch(/no answer within 1000 ms|tim(ed|e)\s?out/i);

  // pg-boss retries it: a second attempt reaches Brevo (and hangs too).
  await brevo.waitForRequests(2, toThisMail);

  await brevo.setFault(undefined);
  await waitFor('the mail to be recorded as sent', async () => {
    const { rows } = await t.database.pool.query('SELECT status, attempts FROM email_outbox WHERE dedupe_key = $1', [mail.dedupeKey]);
    return rows[0]?.status === 'sent' && rows[0];
  });
  expect(brevo.delivered().filter((m) => m.to === mail.toEmail)).toHaveLength(1);
});
