import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from './logger';
import './express-types';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Gives each request an id (a sane incoming X-Request-Id is kept, for tracing through proxies) and a child logger. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get('x-request-id');
    req.id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ requestId: req.id });
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}

/** The declared route pattern that matched (`/api/products/:id`), or a fixed label, so logs and metrics don't explode per URL. */
export function routePattern(req: Request): string {
  return req.routePattern ?? 'unmatched';
}

/** One line per finished request: method, route, status, duration, request id, user id. */
export function accessLog(logger: Logger, userIdOf: (req: Request) => string | undefined = () => undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    // 'close', not 'finish': a response whose client hung up before it ended (a download the
    // client stopped reading) never finishes, and must still be logged.
    res.once('close', () => {
      logger.http('[HTTP] request', {
        component: 'HTTP',
        method: req.method,
        route: routePattern(req),
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: req.id,
        userId: userIdOf(req),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}
