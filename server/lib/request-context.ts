import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AccessLog } from './access-log';
import { armBodyDeadline } from './http/body-deadline';
import type { HeaderList } from './http/security-headers';
import type { Logger } from './logger';
import './express-types';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

// A request's child logger, made the first time something logs for it.
const childLogger = Symbol('childLogger');
type RequestWithLogger = Request & { [childLogger]?: Logger };

/**
 * `req.log`, a logger stamped with the request's id, as a getter on the app's request prototype:
 * most requests never log, so they allocate no child logger.
 */
export function installRequestLogger(app: Express, logger: Logger): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: RequestWithLogger): Logger {
      this[childLogger] ??= logger.child({ requestId: this.id });
      return this[childLogger];
    },
  });
}

/** The declared route pattern that matched (`/api/products/:id`), or a fixed label, so logs and metrics don't explode per URL. */
export function routePattern(req: Request): string {
  return req.routePattern ?? 'unmatched';
}

export interface PreambleOptions {
  /** Sent on every response (helmet's, computed once: security-headers.ts). */
  headers: HeaderList;
  /** Body deadline of requests that announce a body (body-deadline.ts); bodiless ones arm none. */
  bodyTimeoutMs: number;
  /** Records the finished request (the duration histogram); seconds from arrival. */
  observe(req: Request, res: Response, seconds: number): void;
  /** The access line, undefined when the level drops it. */
  accessLog: AccessLog | undefined;
  userIdOf(req: Request): string | undefined;
  /** Responses in flight, for the shutdown to mark `Connection: close`. */
  inFlight: Set<ServerResponse>;
  isShuttingDown(): boolean;
}

/*
 * What every request gets on arrival, in one middleware rather than six: each Express layer
 * costs its own dispatch, and each `close` listener its own closure (measured on the cached
 * catalogue read, bench/README.md). In order: an id (a sane incoming X-Request-Id is kept, for
 * tracing through proxies), the security headers, the body deadline, shutdown bookkeeping, and
 * one `close` listener that measures and logs the request — `close`, not `finish`: a response
 * whose client hung up before it ended (a download the client stopped reading) never finishes,
 * and must still be counted.
 */
export function requestPreamble(options: PreambleOptions) {
  const { headers, bodyTimeoutMs, observe, accessLog, userIdOf, inFlight, isShuttingDown } = options;
  return (req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    for (const [name, value] of headers) res.setHeader(name, value);
    armBodyDeadline(req, res, bodyTimeoutMs);
    if (isShuttingDown()) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      const elapsedMs = performance.now() - started;
      observe(req, res, elapsedMs / 1000);
      accessLog?.write({
        method: req.method,
        route: routePattern(req),
        status: res.statusCode,
        durationMs: Math.round(elapsedMs * 10) / 10,
        ip: req.ip,
        requestId: req.id,
        userId: userIdOf(req),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}
