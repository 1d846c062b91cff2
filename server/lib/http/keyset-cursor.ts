import type { z } from 'zod';
import { badRequest } from '../errors';

/*
 * A list's keyset position as the client carries it: its fields as base64url JSON. Opaque to
 * clients, not secret; every field is checked by `schema` on the way back, so a forged cursor
 * is a 400 `invalid_cursor` and never reaches a query.
 */
export function encodeKeysetCursor(fields: Record<string, string>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64url');
}

export function decodeKeysetCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('invalid_cursor', 'The cursor is not one this API issued');
  }
}
