import { z } from 'zod';
import {
  ChangePasswordBody,
  PasswordResetAccepted,
  PasswordResetBody,
  PasswordResetConfirmBody,
  UserView,
  VerifyEmailBody,
} from '../../../shared/contracts';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import {
  type AccountDeps,
  changePassword,
  confirmPasswordReset,
  requestPasswordReset,
  resendEmailVerification,
  verifyEmail,
} from './accounts.service';
import { toUserView } from './auth.service';
import { startPrivilegedSession } from './session-middleware';

const UserResponse = z.object({ user: UserView });
const RESET_ACCEPTED = { message: 'If an account has this address, a reset link is on its way' };
const INVALID_TOKEN = 'The token is unknown, malformed, expired or already used (the same answer for each)';

export function accountRoutes(deps: AccountDeps): Route[] {
  return [
    defineRoute({
      operationId: 'changePassword',
      method: 'post',
      path: '/api/auth/password',
      tag: 'auth',
      summary: 'Change your password (every other session is signed out)',
      description:
        'The current password is checked; the new one must pass the password policy. Every session of the user ends (their WebSockets close) except this one, which gets a new id. A "password changed" mail is queued.',
      auth: 'user',
      limit: ['writes', 'auth'],
      body: ChangePasswordBody,
      responses: {
        200: json('Changed; this session continues under a new id (cookie set)', UserResponse),
        400: errors('The new password is too easy to guess (advice in `details`)', 'weak_password'),
        403: errors('The current password is wrong', 'wrong_password'),
        404: errors('The account was deleted since the session started', 'not_found'),
      },
      async handler({ req, user: signedIn, body }) {
        const user = await changePassword(deps, signedIn.id, body);
        await startPrivilegedSession(req, { id: user.id, role: user.role });
        return reply(200, { user: toUserView(user) });
      },
    }),

    defineRoute({
      operationId: 'requestPasswordReset',
      method: 'post',
      path: '/api/auth/password-reset',
      tag: 'auth',
      summary: 'Mail a password reset link (always 202)',
      description:
        'The same answer whether or not the address has an account; a link (valid 1 h, single use) is mailed only to an existing account that is not suspended. A new link retires the earlier ones.',
      auth: 'anyone',
      limit: ['writes', 'auth', 'account-mail'],
      body: PasswordResetBody,
      responses: { 202: json('Accepted (whether or not the address exists)', PasswordResetAccepted) },
      async handler({ body }) {
        await requestPasswordReset(deps, body.email);
        return reply(202, RESET_ACCEPTED);
      },
    }),

    defineRoute({
      operationId: 'confirmPasswordReset',
      method: 'post',
      path: '/api/auth/password-reset/confirm',
      tag: 'auth',
      summary: 'Set a new password with a mailed reset token (every session is signed out)',
      auth: 'anyone',
      limit: ['writes', 'auth'],
      body: PasswordResetConfirmBody,
      responses: {
        204: { description: 'The password is set; every session of the account ended: sign in with the new password' },
        400: errors(`${INVALID_TOKEN}, or the password is too easy to guess`, 'invalid_token', 'weak_password'),
        403: errors('The account is suspended', 'account_suspended'),
      },
      async handler({ body }) {
        await confirmPasswordReset(deps, body);
        return reply(204);
      },
    }),

    defineRoute({
      operationId: 'verifyEmail',
      method: 'post',
      path: '/api/auth/verify-email',
      tag: 'auth',
      summary: 'Confirm your e-mail address with the mailed token',
      auth: 'anyone',
      limit: ['writes', 'auth'],
      body: VerifyEmailBody,
      responses: {
        200: json('The account, its address verified', UserResponse),
        400: errors(INVALID_TOKEN, 'invalid_token'),
      },
      async handler({ body }) {
        return reply(200, { user: toUserView(await verifyEmail(deps, body.token)) });
      },
    }),

    defineRoute({
      operationId: 'resendEmailVerification',
      method: 'post',
      path: '/api/auth/verify-email/resend',
      tag: 'auth',
      summary: 'Mail a new verification link (earlier ones stop working)',
      auth: 'user',
      limit: ['writes', 'auth'],
      responses: {
        202: { description: 'A new link is on its way' },
        404: errors('The account was deleted since the session started', 'not_found'),
        409: errors('The address is verified already', 'already_verified'),
      },
      async handler({ user }) {
        await resendEmailVerification(deps, user.id);
        return reply(202);
      },
    }),
  ];
}
