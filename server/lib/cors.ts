import cors from 'cors';
import type { RequestHandler } from 'express';

// Preflights are cached this long (Chromium caps at 7200 s): one OPTIONS per route per 10 minutes.
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * CORS for the configured browser origins (CORS_ORIGINS), credentials included. An unlisted
 * Origin gets no CORS header at all, so the browser refuses it the response. Requests without
 * an Origin header (same-origin navigations, curl, servers, webhooks) skip the middleware: no
 * work on the hot path for callers CORS does not concern.
 */
export function corsFor(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  const handler = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Idempotency-Key', 'X-Request-Id', 'If-None-Match', 'If-Match'],
    exposedHeaders: [
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
      'X-Request-Id',
      'ETag',
      'Location',
      // A checkout retried with its Idempotency-Key tells a replayed answer from a new order by it.
      'Idempotent-Replayed',
    ],
    maxAge: CORS_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  });
  if (allowed.size === 0) return (_req, _res, next) => next();
  return (req, res, next) => {
    // The answer depends on Origin even when none was sent: a shared cache must not give a
    // response without CORS headers to a listed browser (or one with them to another origin).
    res.vary('Origin');
    if (req.headers.origin === undefined) return next();
    handler(req, res, next);
  };
}
