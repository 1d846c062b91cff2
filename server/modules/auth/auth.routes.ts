import { z } from 'zod';
import { LoginBody, RegisterBody, UpdateMeBody, UserView } from '../../../shared/contracts';
import type { Database } from '../../db';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import { notFound } from '../../lib/errors';
import { authenticate, confirmSignIn, findUserById, type OnUserRegistered, registerUser, toUserView, updateProfile } from './auth.service';
import type { SessionCookie } from './session-cookie';
import { endSession, startPrivilegedSession } from './session-middleware';

const UserResponse = z.object({ user: UserView });

export function authRoutes(deps: { database: Database; sessionCookie: SessionCookie; onUserRegistered?: OnUserRegistered }): Route[] {
  return [
    defineRoute({
      operationId: 'register',
      method: 'post',
      path: '/api/auth/register',
      tag: 'auth',
      summary: 'Create an account and sign in',
      auth: 'anyone',
      limit: ['writes', 'auth'],
      body: RegisterBody,
      responses: {
        201: json('The new account, signed in (session cookie set)', UserResponse),
        400: errors('The password is too easy to guess, or contains the e-mail or the name (advice in `details`)', 'weak_password'),
        409: errors('An account with this e-mail already exists', 'email_taken'),
      },
      async handler({ req, body }) {
        const user = await registerUser(deps.database, body, deps.onUserRegistered);
        await startPrivilegedSession(req, { id: user.id, role: user.role });
        return reply(201, { user: toUserView(user) });
      },
    }),

    defineRoute({
      operationId: 'login',
      method: 'post',
      path: '/api/auth/login',
      tag: 'auth',
      summary: 'Sign in (new session id)',
      auth: 'anyone',
      limit: ['writes', 'auth', 'login-account'],
      body: LoginBody,
      responses: {
        200: json('Signed in (session cookie set)', UserResponse),
        401: errors('E-mail or password is wrong', 'invalid_credentials'),
        403: errors('The password is right but an admin suspended the account', 'account_suspended'),
      },
      async handler({ req, res, body }) {
        const user = await authenticate(deps.database.db, body);
        await startPrivilegedSession(req, { id: user.id, role: user.role });
        try {
          await confirmSignIn(deps.database.db, user);
        } catch (error) {
          await endSession(req, res, deps.sessionCookie);
          throw error;
        }
        return reply(200, { user: toUserView(user) });
      },
    }),

    defineRoute({
      operationId: 'logout',
      method: 'post',
      path: '/api/auth/logout',
      tag: 'auth',
      summary: 'Sign out (session destroyed)',
      auth: 'anyone',
      limit: ['writes'],
      responses: { 204: { description: 'Signed out (cookie cleared)' } },
      async handler({ req, res }) {
        await endSession(req, res, deps.sessionCookie);
        return reply(204);
      },
    }),

    defineRoute({
      operationId: 'getCurrentUser',
      method: 'get',
      path: '/api/auth/me',
      tag: 'auth',
      summary: 'The signed-in user',
      auth: 'user',
      limit: ['reads'],
      responses: {
        200: json('The signed-in user', UserResponse),
        404: errors('The account was deleted since the session started', 'not_found'),
      },
      async handler({ user: signedIn }) {
        const user = await findUserById(deps.database.db, signedIn.id);
        if (!user) throw notFound('User');
        return reply(200, { user: toUserView(user) });
      },
    }),

    defineRoute({
      operationId: 'updateCurrentUser',
      method: 'patch',
      path: '/api/auth/me',
      tag: 'auth',
      summary: 'Change your own account (the name; never the role or the e-mail)',
      auth: 'user',
      limit: ['writes'],
      body: UpdateMeBody,
      responses: {
        200: json('The account as changed', UserResponse),
        404: errors('The account was deleted since the session started', 'not_found'),
      },
      async handler({ user: signedIn, body }) {
        const user = await updateProfile(deps.database.db, signedIn.id, body);
        if (!user) throw notFound('User');
        return reply(200, { user: toUserView(user) });
      },
    }),
  ];
}
