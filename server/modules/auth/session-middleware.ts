import type { Request, RequestHandler, Response } from 'express';
import type { Role } from '../../../shared/enums';
import session from 'express-session';
import type { Config } from '../../lib/config';
import type { SessionCookie } from './session-cookie';
import type { TouchAfterStore } from './session-store';

export type { Role };

export interface SessionUser {
  id: string;
  role: Role;
}

// Where a cookie-less request keeps the full middleware, for a route that signs someone in.
const startSessionOf = Symbol('startSession');
type RequestWithoutSession = Request & { [startSessionOf]?: RequestHandler };

/**
 * express-session over the store, skipped entirely for a request without the session cookie: an
 * anonymous request pays for no session id, no session object and no response hooks (it could
 * never load a row anyway). Sign-in and sign-up start a session on demand (startPrivilegedSession).
 */
export function createSessionMiddleware(config: Config, store: TouchAfterStore, cookie: SessionCookie): RequestHandler {
  const loadSession = expressSession(config, store, cookie);
  return (req, res, next) => {
    if (cookie.isIn(req.headers.cookie)) return loadSession(req, res, next);
    (req as RequestWithoutSession)[startSessionOf] = loadSession;
    next();
  };
}

function expressSession(config: Config, store: TouchAfterStore, cookie: SessionCookie): RequestHandler {
  return session({
    name: cookie.name,
    secret: config.SESSION_SECRET,
    store,
    resave: false,
    // No row (and no cookie) until someone signs in: anonymous traffic costs no writes.
    saveUninitialized: false,
    rolling: false,
    proxy: config.TRUST_PROXY !== false,
    cookie: { ...cookie.options, maxAge: config.SESSION_TTL * 1000 },
  });
}

export function currentUser(req: Request): SessionUser | undefined {
  const s = req.session as (typeof req.session & { userId?: string; role?: Role }) | undefined;
  return s?.userId && s.role ? { id: s.userId, role: s.role } : undefined;
}

export interface SessionInfo {
  user: SessionUser;
  sessionId: string;
  /** When the stored session expires (ms since the epoch, wall clock like the store's own `expire`). */
  expiresAt: number;
}

/** The signed-in user with the session they are signed in by (a WebSocket remembers which one it was opened with). */
export function currentSession(req: Request): SessionInfo | undefined {
  const user = currentUser(req);
  if (!user) return undefined;
  const expires = req.session.cookie.expires;
  return { user, sessionId: req.sessionID, expiresAt: expires ? new Date(expires).getTime() : Number.POSITIVE_INFINITY };
}

/**
 * A new session id for a new privilege level (sign-in, sign-up, becoming a vendor): the old id
 * is destroyed, so a cookie planted before the change never carries the new rights.
 */
export async function startPrivilegedSession(req: Request, user: SessionUser): Promise<void> {
  const startSession = (req as RequestWithoutSession)[startSessionOf];
  if (!req.session && startSession && req.res) {
    // No cookie came: a brand-new session (a fresh random id) has nothing to regenerate.
    const res = req.res;
    await new Promise<void>((resolve, reject) => startSession(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  } else {
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  }
  req.session.userId = user.id;
  req.session.role = user.role;
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export async function endSession(req: Request, res: Response, cookie: SessionCookie): Promise<void> {
  if (req.session) await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
  // Same name, domain and path as when set, or the browser keeps the old cookie.
  res.clearCookie(cookie.name, cookie.options);
}
