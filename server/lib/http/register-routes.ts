import { createHash } from 'node:crypto';
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { forbidden, unauthorized } from '../errors';
import { opsTokenRequired } from '../ops-token';
import { type RateLimiter, rateLimit, spendPoint } from '../rate-limit';
import { validateRequest } from '../validate';
import { setBodyDeadline } from './body-deadline';
import { sendJsonReply } from './send-json-reply';
import { bucketOf, type Caller, type LimitBucket, type LimitSpec, type Route } from './define-route';
import '../express-types';

export interface BucketLimiter {
  limiter: RateLimiter;
  /**
   * Whom the bucket counts. `ip`: spent before anything else, before the body is even read (a
   * flood costs no parsing and no session lookup); `caller`: the signed-in user, else the IP —
   * a request without a session cookie is anonymous, so it is counted by IP up front with the
   * `ip` buckets (no session is loaded to find that out), one with a cookie right after the
   * session is read, still before the body; `user`: the signed-in user (else the IP), once the
   * request is validated and authorised; `account`: the e-mail address the validated body names
   * (sign-in attempts against one account, from however many IPs).
   */
  per: 'ip' | 'caller' | 'user' | 'account';
}

export interface RouteRuntime {
  limiters: Partial<Record<LimitBucket, BucketLimiter>>;
  /**
   * Reads the body (JSON) of routes that declare one; runs after the per-IP buckets, so a refused
   * request's body is never read. Omitted: bodies are not read.
   */
  parseBody?: RequestHandler;
  /**
   * Reads the bytes of routes that verify a JSON body as sent (`rawBody` of type application/json,
   * the webhook) without parsing them: whoever checks them parses them once they are authentic.
   */
  readRawBody?: RequestHandler;
  /** Body deadline of routes that stream an upload (ms from the request's arrival); others keep the app's default. */
  uploadBodyTimeoutMs?: number;
  /** Loads the caller's identity (the session middleware); skipped on `auth: 'none'` routes. */
  identify: RequestHandler;
  /** Whether the request carries a session cookie (without one nobody is signed in); omitted: always identify. */
  hasSessionCookie?(req: Request): boolean;
  callerOf(req: Request): Caller | undefined;
  /** Whether the request may read `auth: 'ops'` routes; without it they refuse everyone. */
  isOperator?(req: Request): boolean;
}

/**
 * An Express handler answering the declared routes. Each request runs, in this order: the route
 * pattern stamp (metrics and access log), per-IP buckets (and per-caller ones when there is no
 * session cookie), identify, per-caller buckets (with a session cookie), body parsing,
 * sign-in/role check, validation, `authorize`, per-user and per-account buckets, the handler.
 */
export function routerFor(routes: readonly Route[], runtime: RouteRuntime): RequestHandler {
  const router = Router();
  // Routes without parameters, by normalised path and method: found in one lookup instead of
  // Express's walk testing every declared pattern in turn (measured on the cached catalogue
  // read, bench/README.md). The router still holds them too, for what it adds (OPTIONS).
  const exact = new Map<string, Map<string, RequestHandler>>();
  for (const route of routes) {
    const handler = inSequence(chainOf(route, runtime));
    router[route.method](route.path, handler);
    if (!/[:*]/.test(route.path)) {
      const key = normalisedPath(route.path);
      const byMethod = exact.get(key) ?? new Map<string, RequestHandler>();
      byMethod.set(route.method.toUpperCase(), handler);
      exact.set(key, byMethod);
    }
    const paramAt = route.path.search(/\/[:*]/);
    if (route.malformedPath && paramAt > 0) {
      const answer = route.malformedPath;
      const prefix = route.path.slice(0, paramAt);
      router.use(prefix, (error: unknown, _req: Request, _res: Response, next: NextFunction) => {
        next(error instanceof URIError ? answer() : error);
      });
    }
  }
  return (req, res, next) => {
    const byMethod = exact.get(normalisedPath(req.path));
    // HEAD is answered by GET's handler, as Express does (Node sends no body).
    const handler = byMethod?.get(req.method) ?? (req.method === 'HEAD' ? byMethod?.get('GET') : undefined);
    if (!handler) return router(req, res, next);
    req.params = {};
    handler(req, res, next);
  };
}

/** A path as Express's default matching sees it: case-insensitive, one trailing slash optional. */
function normalisedPath(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

/**
 * A route's handlers as one: each runs when the previous calls `next()`, an error (passed, thrown
 * or a rejected promise, as Express 5 handles them) ends the chain. One Express layer per route
 * instead of one per step.
 */
function inSequence(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, done) => {
    let index = 0;
    const step = (error?: unknown) => {
      if (error) return done(error);
      const handler = handlers[index++];
      if (!handler) return done();
      try {
        const result: unknown = handler(req, res, step);
        if (result instanceof Promise) result.catch((reason: unknown) => done(reason ?? new Error('Rejected promise')));
      } catch (thrown) {
        done(thrown);
      }
    };
    step();
  };
}

/** An account's bucket key: the normalised e-mail, hashed so the counters table holds no addresses. */
function accountKeyOf(body: unknown): string | undefined {
  const email = (body as { email?: unknown } | undefined)?.email;
  if (typeof email !== 'string' || email.trim() === '') return undefined;
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
}

function chainOf(route: Route, runtime: RouteRuntime): RequestHandler[] {
  const buckets = route.limit.map((spec: LimitSpec) => {
    const name = bucketOf(spec);
    const bucket = runtime.limiters[name];
    if (!bucket) throw new Error(`${route.method.toUpperCase()} ${route.path}: no limiter for bucket "${name}"`);
    // Reads and writes have budgets of their own: a route spends from the one its method names.
    if ((name === 'reads' && route.method !== 'get') || (name === 'writes' && route.method === 'get'))
      throw new Error(
        `${route.method.toUpperCase()} ${route.path}: spends from "${name}", which is for ${name === 'reads' ? 'GET' : 'non-GET'} routes`,
      );
    return { ...bucket, applies: typeof spec === 'string' ? () => true : (req: Request) => spec.applies(req) };
  });
  const identifies = route.auth !== 'none' && route.auth !== 'ops';
  // Per-caller buckets count the user once identified; a route that never identifies counts IPs.
  const perIp = buckets.filter((b) => b.per === 'ip' || (b.per === 'caller' && !identifies));
  const perCaller = identifies ? buckets.filter((b) => b.per === 'caller') : [];
  const afterValidation = buckets.filter((b) => b.per === 'user' || b.per === 'account');
  const streamsUpload = route.rawBody?.contentType.startsWith('multipart/') ?? false;
  const chain: RequestHandler[] = [
    (req, res, next) => {
      // Kept on the request: Express resets req.route/baseUrl when an error leaves a router.
      req.routePattern = route.path;
      if (streamsUpload && runtime.uploadBodyTimeoutMs) setBodyDeadline(req, res, runtime.uploadBodyTimeoutMs);
      next();
    },
  ];
  chain.push(...perIp.map(({ limiter, applies }) => rateLimit(limiter, (req) => (applies(req) ? req.ip : undefined))));
  if (perCaller.length > 0) {
    // Without a session cookie the caller is anonymous: counted by IP before the session is even looked at.
    chain.push(async (req, res, next) => {
      if (runtime.hasSessionCookie && !runtime.hasSessionCookie(req))
        for (const b of perCaller) if (b.applies(req)) await spendPoint(b.limiter, req.ip ?? 'unknown', res);
      next();
    });
  }
  if (identifies) chain.push(runtime.identify);
  if (perCaller.length > 0) {
    chain.push(async (req, res, next) => {
      if (!runtime.hasSessionCookie || runtime.hasSessionCookie(req)) {
        const key = runtime.callerOf(req)?.id ?? req.ip ?? 'unknown';
        for (const b of perCaller) if (b.applies(req)) await spendPoint(b.limiter, key, res);
      }
      next();
    });
  }
  // Only a route that reads a body gets one read: anyone may send a megabyte of deeply nested
  // JSON to an unlimited route (probes, /metrics, the webhook), and parsing it blocks the process.
  const bodyReader = route.body ? runtime.parseBody : route.rawBody?.contentType === 'application/json' ? runtime.readRawBody : undefined;
  if (bodyReader) chain.push(bodyReader);
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
    for (const { limiter, per, applies } of afterValidation) {
      if (!applies(req)) continue;
      const key = per === 'account' ? accountKeyOf(input.body) : (user?.id ?? req.ip ?? 'unknown');
      if (key !== undefined) await spendPoint(limiter, key, res);
    }
    const reply = await route.handler(context);
    if (!reply) return;
    await sendJsonReply(req, res, reply);
  });
  return chain;
}
