import { randomBytes } from 'node:crypto';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream';

/** Stripe's error body (`{error:{type,message,...}}`), for `setFault({ status, body })`. */
export function stripeErrorBody(type: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { type, message, ...extra } };
}

export interface FakeStripe extends FakeUpstream {
  intents: Map<string, Record<string, unknown>>;
  refunds: Map<string, Record<string, unknown>>;
}

/**
 * Speaks the slice of Stripe's API the server uses: form-encoded `POST /v1/payment_intents`
 * honouring `Idempotency-Key` (a replay returns the first response), `GET /v1/payment_intents/:id`
 * and `POST /v1/payment_intents/:id/cancel`, and form-encoded `POST /v1/refunds` (by `payment_intent`,
 * idempotent the same way; only for an intent marked `succeeded`, never above what is left). Errors use Stripe's `{error:{type,message}}` shape.
 */
export async function startFakeStripe(): Promise<FakeStripe> {
  const intents = new Map<string, Record<string, unknown>>();
  const refunds = new Map<string, Record<string, unknown>>();
  const byIdempotencyKey = new Map<string, Record<string, unknown>>();
  const upstream = await startFakeUpstream((req) => {
    if (!String(req.headers.authorization ?? '').startsWith('Bearer sk_')) {
      return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
    }
    if (req.method === 'POST' && req.path === '/v1/payment_intents') {
      const key = req.headers['idempotency-key'] as string | undefined;
      if (key && byIdempotencyKey.has(key)) return { body: byIdempotencyKey.get(key), headers: { 'idempotent-replayed': 'true' } };
      const form = new URLSearchParams(req.text);
      const id = `pi_${randomBytes(12).toString('hex')}`;
      const intent = {
        id,
        object: 'payment_intent',
        amount: Number(form.get('amount')),
        amount_received: 0,
        currency: form.get('currency'),
        status: 'requires_payment_method',
        client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
        metadata: { orderId: form.get('metadata[orderId]') },
      };
      intents.set(id, intent);
      if (key) byIdempotencyKey.set(key, intent);
      return { body: intent };
    }
    if (req.method === 'POST' && req.path === '/v1/refunds') {
      const key = req.headers['idempotency-key'] as string | undefined;
      if (key && byIdempotencyKey.has(key)) return { body: byIdempotencyKey.get(key), headers: { 'idempotent-replayed': 'true' } };
      const form = new URLSearchParams(req.text);
      const intent = intents.get(form.get('payment_intent') ?? '');
      if (!intent) return { status: 404, body: { error: { type: 'invalid_request_error', message: 'No such payment_intent' } } };
      const refunded = [...refunds.values()].filter((r) => r.payment_intent === intent.id).reduce((sum, r) => sum + Number(r.amount), 0);
      const left = Number(intent.amount_received) - refunded;
      const amount = form.has('amount') ? Number(form.get('amount')) : left;
      if (intent.status !== 'succeeded' || left <= 0 || amount > left) {
        const code = left <= 0 && intent.status === 'succeeded' ? 'charge_already_refunded' : 'amount_too_large';
        return { status: 400, body: { error: { type: 'invalid_request_error', code, message: 'This PaymentIntent cannot be refunded' } } };
      }
      const refund = {
        id: `re_${randomBytes(12).toString('hex')}`,
        object: 'refund',
        amount,
        currency: intent.currency,
        payment_intent: intent.id,
        status: 'succeeded',
      };
      refunds.set(refund.id, refund);
      if (key) byIdempotencyKey.set(key, refund);
      return { body: refund };
    }
    const match = /^\/v1\/payment_intents\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && match) {
      const intent = intents.get(match[1]!);
      return intent
        ? { body: intent }
        : { status: 404, body: { error: { type: 'invalid_request_error', message: 'No such payment_intent' } } };
    }
    const cancel = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(req.path);
    if (req.method === 'POST' && cancel) {
      const intent = intents.get(cancel[1]!);
      if (!intent) return { status: 404, body: { error: { type: 'invalid_request_error', message: 'No such payment_intent' } } };
      if (intent.status === 'succeeded' || intent.status === 'canceled')
        return {
          status: 400,
          body: { error: { type: 'invalid_request_error', message: `Cannot cancel a ${intent.status} PaymentIntent` } },
        };
      intent.status = 'canceled';
      return { body: intent };
    }
    return {
      status: 404,
      body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method} ${req.path})` } },
    };
  });
  return Object.assign(upstream, { intents, refunds });
}
