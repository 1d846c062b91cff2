import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppError } from './errors';

/**
 * Who may read the operational endpoints (`auth: 'ops'`: /metrics, /api/health, ws-stats), which
 * show versions, memory, pool sizes and raw database errors. With a token: only a caller sending
 * `Authorization: Bearer <token>`. Without one: everyone in development and test (zero-config),
 * no one in production (closed rather than public).
 */
export function createOpsAccessCheck(options: { token?: string; production: boolean }): (req: Request) => boolean {
  const { token, production } = options;
  if (!token) return () => !production;
  const expected = digest(token);
  return (req) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    // Equal-length digests: the comparison takes the same time whatever was sent, its length included.
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export const opsTokenRequired = () =>
  new AppError(401, 'unauthorized', 'This operational endpoint needs the ops token (Authorization: Bearer <OPS_TOKEN>)', undefined, {
    'WWW-Authenticate': 'Bearer realm="ops"',
  });
