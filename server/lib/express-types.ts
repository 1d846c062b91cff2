import type { Logger } from './logger';

declare global {
  namespace Express {
    interface Request {
      /** Set by the request-id middleware; echoed as X-Request-Id and in every error body. */
      id: string;
      log: Logger;
      /** The declared route pattern (`/api/products/:id`), set when a declared route matches. */
      routePattern?: string;
    }
  }
}
