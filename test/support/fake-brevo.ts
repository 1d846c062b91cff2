import { randomBytes } from 'node:crypto';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from './fake-upstream';

export interface FakeBrevo extends FakeUpstream {
  /** Mails Brevo accepted (201), in arrival order. */
  delivered(): Array<{ to: string; subject: string; text: string }>;
  /** Resolves once Brevo has accepted `count` mails matching `to` (all when omitted). */
  waitForDelivered(count: number, to?: string, timeoutMs?: number): Promise<Array<{ to: string; subject: string; text: string }>>;
  /** Answer 500 until `up()` is called. */
  down(): void;
  up(): void;
  /** Answer every send only after `ms` (a slow provider). */
  setDelay(ms: number): void;
  /** Refuse mail to `to` with `status` (e.g. 400 invalid address) from now on. */
  reject(to: string, status: number): void;
  /** Every send request (accepted or not) addressed to `to`. */
  sendsTo(to: string): RecordedRequest[];
}

const isSend = (r: RecordedRequest) => r.method === 'POST' && r.path === '/v3/smtp/email';

/** Speaks Brevo's transactional e-mail API: `POST /v3/smtp/email` with an `api-key` header → 201 `{messageId}`. */
export async function startFakeBrevo(): Promise<FakeBrevo> {
  let failing = false;
  let delayMs = 0;
  const rejected = new Map<string, number>();
  const accepted = new Set<RecordedRequest>();
  const recipient = (r: RecordedRequest) => r.json<{ to: Array<{ email: string }> }>().to[0]?.email;
  const upstream = await startFakeUpstream(async (req, res) => {
    if (!req.headers['api-key']) return { status: 401, body: { code: 'unauthorized', message: 'Key not found' } };
    if (!isSend(req)) return { status: 404, body: { code: 'not_found', message: 'Not found' } };
    // Unref'd: a delayed answer still pending when the suite ends must not hold its worker open.
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    // A caller that gave up before the answer gets nothing, and this fake drops the mail (a
    // provider that does accept it anyway is the at-least-once case e-mail-sender.ts documents).
    if (res.destroyed) return { status: 499, body: { code: 'client_closed', message: 'The caller went away' } };
    if (failing) return { status: 500, body: { code: 'internal_error', message: 'Internal server error' } };
    const refusal = rejected.get(recipient(req) ?? '');
    if (refusal) return { status: refusal, body: { code: 'invalid_parameter', message: 'email is not valid' } };
    accepted.add(req);
    return { status: 201, body: { messageId: `<${randomBytes(8).toString('hex')}@smtp-relay.mailin.fr>` } };
  });
  const delivered = () =>
    upstream.requests
      .filter((r) => accepted.has(r))
      .map((r) => {
        const body = r.json<{ to: Array<{ email: string }>; subject: string; textContent: string }>();
        return { to: body.to[0]!.email, subject: body.subject, text: body.textContent };
      });
  return Object.assign(upstream, {
    delivered,
    async waitForDelivered(count: number, to?: string, timeoutMs = 15_000) {
      await upstream.waitForRequests(
        count,
        (r) => accepted.has(r) && (!to || r.json<{ to: Array<{ email: string }> }>().to[0]?.email === to),
        timeoutMs,
      );
      return delivered().filter((m) => !to || m.to === to);
    },
    down: () => {
      failing = true;
    },
    up: () => {
      failing = false;
    },
    setDelay: (ms: number) => {
      delayMs = ms;
    },
    reject: (to: string, status: number) => {
      rejected.set(to, status);
    },
    sendsTo: (to: string) => upstream.requests.filter((r) => isSend(r) && recipient(r) === to),
  });
}
