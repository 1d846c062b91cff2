import type { IncomingMessage } from 'node:http';

const rawBodyKey = Symbol.for('marketplace.rawBody');
type WithRawBody = IncomingMessage & { [rawBodyKey]?: Buffer };

/** body-parser `verify` hook: keeps a reference (no copy) to the bytes a JSON body was parsed from. */
export function keepRawBody(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  (req as WithRawBody)[rawBodyKey] = buf;
}

/** The exact bytes of a JSON body (webhook signatures are computed over them). */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return (req as WithRawBody)[rawBodyKey];
}
