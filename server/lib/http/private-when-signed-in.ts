import type { Request, RequestHandler } from 'express';

export const PRIVATE_NO_STORE = 'private, no-store';

/*
 * A response to a signed-in user is about that user (their orders, their chat, their session):
 * no cache, shared or the browser's, may keep it. Answers of every kind get it — replies,
 * errors, 404s — unless the route chose its own Cache-Control (a private object download). The
 * check runs as the headers go out, once the session is known; a request without a session
 * cookie is nobody's and pays nothing.
 */
export function privateWhenSignedIn(options: {
  hasSessionCookie(req: Request): boolean;
  isSignedIn(req: Request): boolean;
}): RequestHandler {
  return (req, res, next) => {
    if (options.hasSessionCookie(req)) {
      const writeHead = res.writeHead;
      res.writeHead = function (this: typeof res, ...args: Parameters<typeof writeHead>) {
        if (!this.hasHeader('Cache-Control') && options.isSignedIn(req)) this.setHeader('Cache-Control', PRIVATE_NO_STORE);
        return writeHead.apply(this, args);
      } as typeof writeHead;
    }
    next();
  };
}
