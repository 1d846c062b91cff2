import { type RequestHandler, Router } from 'express';
import { AppError } from '../errors';
import type { Route } from './define-route';

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * 405 with `Allow` for a known path asked with a method none of its routes answers (mount it
 * after the routes, before the 404): `DELETE /api/products` → `Allow: GET, HEAD, POST`. Paths
 * are matched by an Express router, so exactly as the routes themselves are. A CORS preflight is
 * answered before the routes; a plain OPTIONS that no router answered (Express's own router
 * answers it with 200 and `Allow` when it matched the path) gets 204 with `Allow` here.
 */
export function methodNotAllowed(routes: readonly Route[]): RequestHandler {
  const methodsOf = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = methodsOf.get(route.path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    // Express answers HEAD with a GET route.
    if (route.method === 'get') methods.add('HEAD');
    methodsOf.set(route.path, methods);
  }
  const router = Router();
  for (const [path, methods] of methodsOf) {
    const allow = METHOD_ORDER.filter((m) => methods.has(m)).join(', ');
    router.all(path, (req, res, next) => {
      if (methods.has(req.method)) return next();
      if (req.method === 'OPTIONS') {
        res.setHeader('Allow', allow);
        res.status(204).end();
        return;
      }
      next(new AppError(405, 'method_not_allowed', `${req.method} is not allowed here; allowed: ${allow}`, undefined, { Allow: allow }));
    });
  }
  return router;
}
