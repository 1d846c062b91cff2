import { z } from 'zod';
import { productSorts, type ProductSort } from '../../../shared/contracts';
import { badRequest } from '../../lib/errors';
import { decodeKeysetCursor, encodeKeysetCursor } from '../../lib/http/keyset-cursor';

/*
 * Keyset position: the sort key of the last item and its id (the tie-breaker). `newest` keys
 * travel as microseconds since the epoch, computed by Postgres, so rows sharing a millisecond
 * are neither repeated nor skipped (a JS Date would drop the microseconds). Digits only, so a
 * forged cursor can never make the query itself fail.
 */
const Cursor = z.object({
  s: z.enum(productSorts),
  v: z.string().regex(/^\d{1,16}$/),
  i: z.uuid(),
});

export interface CursorPosition {
  sort: ProductSort;
  value: string;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return encodeKeysetCursor({ s: position.sort, v: position.value, i: position.id });
}

export function decodeCursor(cursor: string, sort: ProductSort): CursorPosition {
  const parsed = decodeKeysetCursor(cursor, Cursor);
  if (parsed.s !== sort) throw badRequest('invalid_cursor', `The cursor belongs to sort=${parsed.s}, not sort=${sort}`);
  return { sort: parsed.s, value: parsed.v, id: parsed.i };
}
