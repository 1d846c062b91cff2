import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { forbidden, unauthorized } from '../errors';
import { opsTokenRequired } from '../ops-token';
import { type RateLimiter, rateLimit } from '../rate-limit';
import { validateRequest } from '../validate';
import type { Caller, LimitBucket, Route } from './define-route';
import '../express-types';

interface BucketLimiter {
  limiter: RateLimiter;
  /** `ip`: spent before anything else (a flood costs no session lookup); `user`: once the request is authorised. */
  per: 'ip' | 'user';
}

export interface RouteRuntime {
  limiters: Partial<Record<LimitBucket, BucketLimiter>>;
  /** Loads the caller's identity (the session middleware); skipped on `auth: 'none'` routes. */
  identify: RequestHandler;
  callerOf(req: Request): Caller | undefined;
  /** Whether the request may read `auth: 'ops'` routes; without it they refuse everyone. */
  isOperator?(req: Request): boolean;
}

/**
 * An Express router answering the declared routes. Each request runs, in this order: the route
 * pattern stamp (metrics and access log), per-IP buckets, identify, sign-in/role check,
 * validation, `authorize`, per-user buckets, the handler.
 */
export function routerFor(routes: readonly Route[], runtime: RouteRuntime): Router {
  const router = Router();
  for (const route of routes) {
    router[route.method](route.path, ...chainOf(route, runtime));
    const paramAt = route.path.search(/\/[:*]/);
    if (route.malformedPath && paramAt > 0) {
      const answer = route.malformedPath;
      const prefix = route.path.slice(0, paramAt);
      router.use(prefix, (error: unknown, _req: Request, _res: Response, next: NextFunction) => {
        next(error instanceof URIError ? answer() : error);
      });
    }
  }
  return router;
}

function chainOf(route: Route, runtime: RouteRuntime): RequestHandler[] {
  const bucket = (name: LimitBucket) => {
    const limiter = runtime.limiters[name];
    if (!limiter) throw new Error(`${route.method.toUpperCase()} ${route.path}: no limiter for bucket "${name}"`);
    return limiter;
  };
  const perIp = route.limit.map(bucket).filter((b) => b.per === 'ip');
  const perUser = route.limit.map(bucket).filter((b) => b.per === 'user');
  const chain: RequestHandler[] = [
    (req, _res, next) => {
      // Kept on the request: Express resets req.route/baseUrl when an error leaves a router.
      req.routePattern = route.path;
      next();
    },
  ];
  chain.push(...perIp.map(({ limiter }) => rateLimit(limiter)));
  if (route.auth !== 'none' && route.auth !== 'ops') chain.push(runtime.identify);
  chain.push(async (req, res, next) => {
    const user = runtime.callerOf(req);
    if (route.auth === 'ops') {
      if (!runtime.isOperator?.(req)) throw opsTokenRequired();
    } else if (route.auth !== 'none' && route.auth !== 'anyone') {
      if (!user) throw unauthorized();
      if (typeof route.auth === 'object' && !route.auth.roles.includes(user.role)) throw forbidden();
    }
    const input = validateRequest(req, { params: route.params, query: route.query, body: route.body });
    const context = { req, res, next, user, params: input.params, query: input.query, body: input.body };
    route.authorize?.(context);
    for (const { limiter } of perUser) await limiter.consume(user?.id ?? req.ip ?? 'unknown');
    const reply = await route.handler(context);
    if (!reply) return;
    if (reply.headers) res.set(reply.headers);
    res.status(reply.status);
    if (reply.body === undefined) res.end();
    else res.json(reply.body);
  });
  return chain;
}
