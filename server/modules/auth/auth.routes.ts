import { Router } from 'express';
import { LoginBody, RegisterBody } from '../../../shared/contracts';
import type { Database } from '../../db';
import { notFound, unauthorized } from '../../lib/errors';
import { rateLimit, type RateLimiter } from '../../lib/rate-limit';
import { validateRequest } from '../../lib/validate';
import { authenticate, findUserById, type OnUserRegistered, registerUser, toUserView } from './auth.service';
import { currentUser, endSession, startPrivilegedSession } from './session-middleware';

export function authRouter(deps: { database: Database; authLimiter: RateLimiter; onUserRegistered?: OnUserRegistered }): Router {
  const router = Router();
  const limited = rateLimit(deps.authLimiter);

  router.post('/register', limited, async (req, res) => {
    const { body } = validateRequest(req, { body: RegisterBody });
    const user = await registerUser(deps.database, body, deps.onUserRegistered);
    await startPrivilegedSession(req, { id: user.id, role: user.role });
    res.status(201).json({ user: toUserView(user) });
  });

  router.post('/login', limited, async (req, res) => {
    const { body } = validateRequest(req, { body: LoginBody });
    const user = await authenticate(deps.database.db, body);
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
    const user = await findUserById(deps.database.db, signedIn.id);
    if (!user) throw notFound('User');
    res.json({ user: toUserView(user) });
  });

  return router;
}
