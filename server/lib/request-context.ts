import { randomUUID } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from './logger';
import './express-types';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

// A request's child logger, made the first time something logs for it.
const childLogger = Symbol('childLogger');
type RequestWithLogger = Request & { [childLogger]?: Logger };

/**
 * Gives each request an id (a sane incoming X-Request-Id is kept, for tracing through proxies)
 * and `req.log`, a logger stamped with that id. `req.log` is a getter on the app's request
 * prototype: most requests never log, so they allocate no child logger.
 */
export function requestContext(app: Express, logger: Logger) {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: RequestWithLogger): Logger {
      this[childLogger] ??= logger.child({ requestId: this.id });
      return this[childLogger];
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}

/** The declared route pattern that matched (`/api/products/:id`), or a fixed label, so logs and metrics don't explode per URL. */
export function routePattern(req: Request): string {
  return req.routePattern ?? 'unmatched';
}

/** One line per finished request: method, route, status, duration, client IP, request id, user id. */
export function accessLog(logger: Logger, userIdOf: (req: Request) => string | undefined = () => undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    // Decided when the request arrives: a line the level drops costs no timer, listener or entry.
    if (!logger.isLevelEnabled('http')) return next();
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
        ip: req.ip,
        requestId: req.id,
        userId: userIdOf(req),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}
