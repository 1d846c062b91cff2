import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DbOrTx } from '../../db';
import { AppError, badRequest } from '../../lib/errors';
import { deleteKeysBefore, findStoredReply, storeReply } from './idempotency-keys.repository';

/*
 * `Idempotency-Key` on POST /api/orders: a checkout retried on a flaky network (the first answer
 * lost) must not place a second order. The key is the buyer's: the same key with the same body
 * gets the stored answer again (the same order, the same status, `Idempotent-Replayed: true`);
 * with another body, 422 `idempotency_key_reused`. The key is stored with the order in one
 * transaction, so a placement that fails (no stock, a rollback) stores nothing and may be retried
 * with the same key. A duplicate sent while the first is in flight waits for it: placements of
 * one buyer run under one lock, and the second then finds the first's key and replays its answer.
 */

/** How long a key replays its answer. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The request header as documented (OpenAPI) and checked: 1–255 printable ASCII characters. */
export const IdempotencyHeaders = z.object({
  [IDEMPOTENCY_KEY_HEADER]: z
    .string()
    .regex(/^[\x20-\x7e]{1,255}$/, '1–255 printable ASCII characters')
    .optional()
    .meta({
      description:
        'Makes a retried checkout safe: the same key with the same body within 24 h answers the first order again (with `Idempotent-Replayed: true`) instead of placing another; with a different body, 422 `idempotency_key_reused`. Keys are per user; use a fresh random one (a UUID) per checkout.',
    }),
});

export interface IdempotentRequest {
  key: string;
  /** SHA-256 of the validated body. */
  requestHash: string;
}

/** The key of a request, or undefined when it sends none; 400 `invalid_idempotency_key` when malformed. */
export function idempotentRequestOf(header: string | undefined, body: unknown): IdempotentRequest | undefined {
  if (header === undefined) return undefined;
  const parsed = IdempotencyHeaders.safeParse({ [IDEMPOTENCY_KEY_HEADER]: header });
  if (!parsed.success) throw badRequest('invalid_idempotency_key', `${IDEMPOTENCY_KEY_HEADER} must be 1–255 printable ASCII characters`);
  return { key: header, requestHash: createHash('sha256').update(JSON.stringify(body)).digest('base64url') };
}

export interface IdempotentReply {
  status: number;
  body: unknown;
}

/** The answer stored under the buyer's live key; 422 when it was stored for another body. */
export async function storedReplyFor(
  db: DbOrTx,
  buyerId: string,
  request: IdempotentRequest,
  now: number,
): Promise<IdempotentReply | undefined> {
  const stored = await findStoredReply(db, buyerId, request.key, new Date(now - IDEMPOTENCY_KEY_TTL_MS));
  if (!stored) return undefined;
  if (stored.requestHash !== request.requestHash)
    throw new AppError(
      422,
      'idempotency_key_reused',
      `This ${IDEMPOTENCY_KEY_HEADER} was used for a different request in the last 24 hours; use a new key for a new order`,
    );
  return { status: stored.responseStatus, body: JSON.parse(stored.responseBody) };
}

/** Stores the answer under the buyer's key (in the order's transaction). */
export function rememberReply(
  tx: DbOrTx,
  buyerId: string,
  request: IdempotentRequest,
  reply: IdempotentReply & { orderId: string },
  now: number,
): Promise<void> {
  return storeReply(tx, {
    userId: buyerId,
    key: request.key,
    requestHash: request.requestHash,
    orderId: reply.orderId,
    responseStatus: reply.status,
    responseBody: JSON.stringify(reply.body),
    createdAt: new Date(now),
    expiredBefore: new Date(now - IDEMPOTENCY_KEY_TTL_MS),
  });
}

/** Deletes keys past their 24 h (the periodic job); returns how many. */
export function sweepExpiredKeys(db: DbOrTx, now: number): Promise<number> {
  return deleteKeysBefore(db, new Date(now - IDEMPOTENCY_KEY_TTL_MS));
}
