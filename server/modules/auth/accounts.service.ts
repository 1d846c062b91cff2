import type { ChangePasswordBody, PasswordResetConfirmBody } from '../../../shared/contracts';
import type { Database, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../lib/errors';
import { emailVerificationEmail, type OutgoingEmail, passwordChangedEmail, passwordResetEmail } from '../email';
import { hashAccountToken, newAccountToken } from './account-token';
import { type AccountTokenPurpose, consumeAccountToken, insertAccountToken, retireUnusedTokens } from './account-tokens.repository';
import { deleteUserSessionsAnnounced, findUserByEmail, findUserById, updateUser, type UserRow } from './auth.repository';
import { hashPassword, verifyPassword } from './password';
import { refuseWeakPassword } from './password-policy';

/*
 * The account workflows that go through a mailbox or a password: change, reset, e-mail
 * verification. Every mail is queued in the outbox inside the transaction that caused it.
 */

export interface AccountDeps {
  database: Database;
  clock: Clock;
  /** Where the links in mails point (PUBLIC_BASE_URL, no trailing slash). */
  publicBaseUrl: string;
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
}

const RESET_TTL_MS = 60 * 60 * 1000;
const VERIFICATION_TTL_MS = 48 * 60 * 60 * 1000;

export const invalidToken = () => badRequest('invalid_token', 'This link is invalid, expired or already used; ask for a new one');
export const accountSuspended = () => forbidden('This account is suspended', 'account_suspended');

/** Stores a fresh token of `purpose` for the user (earlier unused ones retired) and returns the token to mail. */
async function issueToken(
  deps: AccountDeps,
  unit: UnitOfWork,
  userId: string,
  purpose: AccountTokenPurpose,
  ttlMs: number,
  { token, hash } = newAccountToken(),
) {
  const now = new Date(deps.clock.now());
  await retireUnusedTokens(unit.tx, userId, purpose, now);
  await insertAccountToken(unit.tx, { tokenHash: hash, userId, purpose, expiresAt: new Date(now.getTime() + ttlMs), createdAt: now });
  return { token, tokenId: hash };
}

/** Queues the verification mail for a new or unverified account, inside the caller's unit of work. */
export async function issueEmailVerification(deps: AccountDeps, unit: UnitOfWork, user: UserRow): Promise<void> {
  const { token, tokenId } = await issueToken(deps, unit, user.id, 'email_verification', VERIFICATION_TTL_MS);
  const link = `${deps.publicBaseUrl}/verify-email?token=${token}`;
  await deps.enqueueEmail(unit, emailVerificationEmail(user, { link, token, tokenId }));
}

/** Sets a new password and signs the user out everywhere, in the caller's unit of work; the owner is told by mail. */
async function replacePassword(deps: AccountDeps, unit: UnitOfWork, user: UserRow, password: string): Promise<UserRow> {
  refuseWeakPassword(password, user);
  const updated = await updateUser(unit.tx, user.id, { passwordHash: await hashPassword(password) });
  if (!updated) throw notFound('User');
  // A reset link mailed earlier must not outlive the password it was meant to replace.
  await retireUnusedTokens(unit.tx, user.id, 'password_reset', new Date(deps.clock.now()));
  await deleteUserSessionsAnnounced(unit.tx, user.id);
  await deps.enqueueEmail(unit, passwordChangedEmail(updated, new Date(deps.clock.now())));
  return updated;
}

/**
 * Changes a signed-in user's password. Every session of the user is revoked, the caller's
 * included: the route starts a new one for the caller (a privilege change gets a new id).
 */
export async function changePassword(deps: AccountDeps, userId: string, body: ChangePasswordBody): Promise<UserRow> {
  const user = await findUserById(deps.database.db, userId);
  if (!user) throw notFound('User');
  if (!(await verifyPassword(user.passwordHash, body.currentPassword)))
    throw new AppError(403, 'wrong_password', 'The current password is wrong');
  return deps.database.transaction((unit) => replacePassword(deps, unit, user, body.newPassword));
}

// Nobody's id: an unknown address retires the tokens of no one, at the cost a known one pays.
const NO_USER = '00000000-0000-0000-0000-000000000000';

/**
 * Mails a reset link when the address belongs to an account in good standing; otherwise does
 * nothing visible. Both paths make the same lookup, generate and hash a token and run a
 * transaction retiring earlier links, so only two small inserts tell them apart in time.
 */
export async function requestPasswordReset(deps: AccountDeps, email: string): Promise<void> {
  const user = await findUserByEmail(deps.database.db, email);
  // A suspended account gets no mail: the link could not be used (confirm answers 403).
  const recipient = user && !user.suspendedAt ? user : undefined;
  const fresh = newAccountToken();
  await deps.database.transaction(async (unit) => {
    if (!recipient) {
      await retireUnusedTokens(unit.tx, NO_USER, 'password_reset', new Date(deps.clock.now()));
      return;
    }
    const { token, tokenId } = await issueToken(deps, unit, recipient.id, 'password_reset', RESET_TTL_MS, fresh);
    const link = `${deps.publicBaseUrl}/reset-password?token=${token}`;
    await deps.enqueueEmail(unit, passwordResetEmail(recipient, { link, token, tokenId }));
  });
}

/** Uses a reset token: the new password is set and every session of the user revoked. */
export async function confirmPasswordReset(deps: AccountDeps, body: PasswordResetConfirmBody): Promise<void> {
  await deps.database.transaction(async (unit) => {
    // Consumed first (one statement): of two concurrent uses only one finds it unused. A refusal
    // below rolls the use back, so a too-weak password can be retried with the same link.
    const userId = await consumeAccountToken(unit.tx, hashAccountToken(body.token), 'password_reset', new Date(deps.clock.now()));
    const user = userId ? await findUserById(unit.tx, userId) : undefined;
    if (!user) throw invalidToken();
    if (user.suspendedAt) throw accountSuspended();
    await replacePassword(deps, unit, user, body.password);
  });
}

/** Marks the address of the token's user verified (single use). */
export async function verifyEmail(deps: AccountDeps, token: string): Promise<UserRow> {
  return deps.database.transaction(async (unit) => {
    const now = new Date(deps.clock.now());
    const userId = await consumeAccountToken(unit.tx, hashAccountToken(token), 'email_verification', now);
    const user = userId ? await findUserById(unit.tx, userId) : undefined;
    if (!user) throw invalidToken();
    if (user.emailVerifiedAt) return user;
    return (await updateUser(unit.tx, user.id, { emailVerifiedAt: now }))!;
  });
}

/** A new verification link for a signed-in user whose address is not verified yet (the earlier links stop working). */
export async function resendEmailVerification(deps: AccountDeps, userId: string): Promise<void> {
  await deps.database.transaction(async (unit) => {
    const user = await findUserById(unit.tx, userId);
    if (!user) throw notFound('User');
    if (user.emailVerifiedAt) throw conflict('already_verified', 'Your e-mail address is already verified');
    await issueEmailVerification(deps, unit, user);
  });
}
