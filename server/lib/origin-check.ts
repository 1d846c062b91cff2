import type { NextFunction, Request, Response } from 'express';
import { forbidden } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/*
 * CSRF defence in depth next to SameSite=Lax cookies: a browser always sends Origin on
 * cross-site state-changing requests, so a foreign Origin is refused. No Origin at all
 * (curl, server-to-server, Stripe webhooks) carries no ambient browser credentials risk.
 */
export function refuseForeignOrigin(appOrigin: string | undefined) {
  const allowed = appOrigin ? new URL(appOrigin).origin : undefined;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.get('origin');
    if (!origin) return next();
    const own = `${req.protocol}://${req.get('host')}`;
    if (origin === allowed || origin === own) return next();
    next(forbidden('Cross-origin request refused', 'foreign_origin'));
  };
}
