import { Router } from 'express';
import { LoginBody, RegisterBody } from '../../../shared/contracts';
import type { Db } from '../../db';
import { notFound, unauthorized } from '../../lib/errors';
import { rateLimit, type RateLimiter } from '../../lib/rate-limit';
import { validateRequest } from '../../lib/validate';
import { authenticate, findUserById, type OnUserRegistered, registerUser, toUserView } from './auth.service';
import { currentUser, endSession, startPrivilegedSession } from './session-middleware';

export function authRouter(deps: { db: Db; authLimiter: RateLimiter; onUserRegistered?: OnUserRegistered }): Router {
  const router = Router();
  const limited = rateLimit(deps.authLimiter);

  router.post('/register', limited, async (req, res) => {
    const { body } = validateRequest(req, { body: RegisterBody });
    const user = await registerUser(deps.db, body, deps.onUserRegistered);
    await startPrivilegedSession(req, { id: user.id, role: user.role });
    res.status(201).json({ user: toUserView(user) });
  });

  router.post('/login', limited, async (req, res) => {
    const { body } = validateRequest(req, { body: LoginBody });
    const user = await authenticate(deps.db, body);
    await startPrivilegedSession(req, { id: user.id, role: user.role });
    res.json({ user: toUserView(user) });
  });

  router.post('/logout', async (req, res) => {
    await endSession(req, res);
    res.status(204).end();
  });

  router.get('/me', async (req, res) => {
    const signedIn = currentUser(req);
    if (!signedIn) throw unauthorized();
    const user = await findUserById(deps.db, signedIn.id);
    if (!user) throw notFound('User');
    res.json({ user: toUserView(user) });
  });

  return router;
}
