import type { Express } from 'express';

export interface RegisteredRoute {
  method: string;
  /** Express path syntax, e.g. `/api/products/:id`. */
  path: string;
}

interface StackLayer {
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; fullPath?: string };
  handle?: { stack?: StackLayer[] };
}

function walkRoutes(app: Express, visit: (route: NonNullable<StackLayer['route']>, fullPath: string) => void): void {
  const walk = (stack: StackLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) visit(layer.route, `${prefix}${layer.route.path}`);
      else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack, '');
}

/**
 * Stamps each route with its full pattern (mount path included). Express restores
 * `req.baseUrl` when an error leaves a router, so by the time the access log and metrics read
 * it, `/api/products/:id` would have become `/products/:id`.
 */
export function stampRoutePatterns(app: Express): void {
  walkRoutes(app, (route, fullPath) => {
    route.fullPath = fullPath;
  });
}

/** Every route mounted on the app (walking nested routers), e.g. to check the API description covers them. */
export function listRoutes(app: Express): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  walkRoutes(app, (route, fullPath) => {
        for (const [method, on] of Object.entries(route.methods)) {
          if (on && method !== '_all') routes.push({ method: method.toUpperCase(), path: fullPath });
        }
  });
  return routes;
}
