import type { NextFunction, Request, Response } from 'express';
import type { Config } from './config';
import { forbidden } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The browser origins trusted with the session cookie: the app's own public origin (APP_ORIGIN)
 * and every CORS_ORIGINS entry. The CORS headers and this check read one list, so an origin the
 * browser lets read responses is exactly an origin allowed to change state.
 */
export function trustedOrigins(config: Pick<Config, 'APP_ORIGIN' | 'CORS_ORIGINS'>): readonly string[] {
  return [...(config.APP_ORIGIN ? [new URL(config.APP_ORIGIN).origin] : []), ...config.CORS_ORIGINS];
}

/*
 * CSRF defence in depth next to SameSite=Lax cookies: a browser always sends Origin on
 * cross-site state-changing requests, so a foreign Origin is refused. No Origin at all
 * (curl, server-to-server, Stripe webhooks) carries no ambient browser credentials risk.
 */
export function refuseForeignOrigin(origins: readonly string[]) {
  const allowed = originAllowedBy(origins);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (allowed(req.get('origin'), `${req.protocol}://${req.get('host')}`)) return next();
    next(forbidden('Cross-origin request refused', 'foreign_origin'));
  };
}

/**
 * The rule itself, for callers outside Express (the WebSocket upgrade): no Origin, one of
 * `origins` (see `trustedOrigins`), or the server's own origin (`ownOrigin`, e.g. `http://host:port`).
 */
export function originAllowedBy(origins: readonly string[]): (origin: string | undefined, ownOrigin: string) => boolean {
  const allowed = new Set(origins);
  return (origin, ownOrigin) => !origin || allowed.has(origin) || origin === ownOrigin;
}
