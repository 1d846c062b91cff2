import { z } from 'zod';
import { badRequest } from '../../lib/errors';
import type { VendorCursorPosition } from './stores.repository';

/*
 * Keyset position in the store list: the last store's lower-cased name (as Postgres lower-cased
 * it, so the next page compares like with like) and its id, the tie-breaker.
 */
const Cursor = z.object({
  // No NUL: Postgres text cannot hold one, and a forged cursor must be a 400 of ours.
  n: z
    .string()
    .max(400)
    .refine((name) => !name.includes('\u0000')),
  i: z.uuid(),
});

export function encodeVendorCursor(position: VendorCursorPosition): string {
  return Buffer.from(JSON.stringify({ n: position.name, i: position.id })).toString('base64url');
}

export function decodeVendorCursor(cursor: string): VendorCursorPosition {
  try {
    const parsed = Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { name: parsed.n, id: parsed.i };
  } catch {
    throw badRequest('invalid_cursor', 'The cursor is not one this API issued');
  }
}
