import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';

/**
 * The TLS-proxy trap, seen at run time: a proxy says the client spoke https, but Express does
 * not trust it (TRUST_PROXY off, or naming other addresses), so the request counts as http and
 * express-session silently drops the Secure session cookie. Warned once per app (one per
 * process); costs one header lookup per request until then, nothing after.
 */
export function warnUntrustedHttpsProxy(logger: Logger) {
  let warned = false;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (warned) return next();
    const forwarded = req.headers['x-forwarded-proto'];
    // req.protocol applies the trust-proxy rule: https here means the proxy is trusted.
    if (typeof forwarded === 'string' && /^\s*https\s*(,|$)/i.test(forwarded) && req.protocol !== 'https') {
      warned = true;
      logger.warn(
        `[PROXY] A request arrived with X-Forwarded-Proto: https from ${req.socket.remoteAddress ?? 'an unknown address'}, ` +
          'but TRUST_PROXY does not trust it, so requests count as plain http and the Secure session cookie is never sent ' +
          '(sign-in answers 200 but nobody stays signed in). Set TRUST_PROXY to the number of proxies in front (e.g. 1) ' +
          'or their addresses/subnets. (Logged once.)',
      );
    }
    next();
  };
}
