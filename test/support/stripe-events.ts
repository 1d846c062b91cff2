import type supertest from 'supertest';
import Stripe from 'stripe';

// Signing needs no API key of any value: only the webhook secret counts.
const stripeForSigning = new Stripe('sk_test_signing_only');

/** A Stripe event as Stripe delivers it: the exact JSON bytes and their `Stripe-Signature` header. */
export function signStripeEvent(
  secret: string,
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; createdMs?: number } = {},
): { payload: string; signature: string; id: string } {
  const id = options.id ?? `evt_${Math.random().toString(36).slice(2)}`;
  const payload = JSON.stringify({
    id,
    object: 'event',
    type,
    api_version: '2025-01-01',
    created: Math.floor((options.createdMs ?? Date.now()) / 1000),
    data: { object },
  });
  return { payload, signature: stripeForSigning.webhooks.generateTestHeaderString({ payload, secret }), id };
}

/** Posts a signed event to the webhook route exactly as Stripe does (raw bytes, signature header). */
export function deliverStripeEvent(request: ReturnType<typeof supertest>, event: { payload: string; signature: string }): supertest.Test {
  return request
    .post('/api/stripe/webhook')
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', event.signature)
    .send(event.payload);
}
