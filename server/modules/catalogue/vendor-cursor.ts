import { z } from 'zod';
import { decodeKeysetCursor, encodeKeysetCursor } from '../../lib/http/keyset-cursor';
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
  return encodeKeysetCursor({ n: position.name, i: position.id });
}

export function decodeVendorCursor(cursor: string): VendorCursorPosition {
  const parsed = decodeKeysetCursor(cursor, Cursor);
  return { name: parsed.n, id: parsed.i };
}
