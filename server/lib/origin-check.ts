import type { NextFunction, Request, Response } from 'express';
import { forbidden } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/*
 * CSRF defence in depth next to SameSite=Lax cookies: a browser always sends Origin on
 * cross-site state-changing requests, so a foreign Origin is refused. No Origin at all
 * (curl, server-to-server, Stripe webhooks) carries no ambient browser credentials risk.
 */
export function refuseForeignOrigin(appOrigin: string | undefined) {
  const allowed = originAllowedBy(appOrigin);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (allowed(req.get('origin'), `${req.protocol}://${req.get('host')}`)) return next();
    next(forbidden('Cross-origin request refused', 'foreign_origin'));
  };
}

/**
 * The rule itself, for callers outside Express (the WebSocket upgrade): no Origin, the
 * configured APP_ORIGIN, or the server's own origin (`ownOrigin`, e.g. `http://host:port`).
 */
export function originAllowedBy(appOrigin: string | undefined): (origin: string | undefined, ownOrigin: string) => boolean {
  const allowed = appOrigin ? new URL(appOrigin).origin : undefined;
  return (origin, ownOrigin) => !origin || origin === allowed || origin === ownOrigin;
}
