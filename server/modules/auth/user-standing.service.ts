import type { Role } from '../../../shared/enums';
import type { DbOrTx, TransactionRunner, UnitOfWork } from '../../db';
import { AppError, forbidden } from '../../lib/errors';
import {
  deleteUserSessionsAnnounced,
  findUserByEmail,
  findUserById,
  insertAdmin,
  lockUserById,
  updateUser,
  type UserRow,
} from './auth.repository';
import { hashPassword } from './password';
import { refuseWeakPassword } from './password-policy';

/*
 * What an admin (or the operator's command) decides about an account: suspension and the admin
 * role. Neither can be reached through the public API.
 */

export interface UserStanding {
  id: string;
  email: string;
  name: string;
  role: Role;
  emailVerified: boolean;
  suspendedAt: string | null;
}

const standingOf = (row: UserRow): UserStanding => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  emailVerified: row.emailVerifiedAt !== null,
  suspendedAt: row.suspendedAt?.toISOString() ?? null,
});

/** For admin listings and audit snapshots. */
export async function findUserStanding(db: DbOrTx, userId: string): Promise<UserStanding | undefined> {
  const row = await findUserById(db, userId);
  return row && standingOf(row);
}

/**
 * Suspends (suspended=true) or reinstates a user inside the caller's unit of work; suspending
 * also revokes all their sessions (their WebSockets close once the unit commits). undefined: no
 * such user. Idempotent: suspending a suspended user changes nothing (before equals after).
 */
export async function setUserSuspended(
  unit: UnitOfWork,
  userId: string,
  suspended: boolean,
  at: Date,
): Promise<{ before: UserStanding; after: UserStanding } | undefined> {
  const row = await lockUserById(unit.tx, userId);
  if (!row) return undefined;
  const before = standingOf(row);
  if ((row.suspendedAt !== null) === suspended) return { before, after: before };
  const updated = await updateUser(unit.tx, userId, { suspendedAt: suspended ? at : null });
  if (suspended) await deleteUserSessionsAnnounced(unit.tx, userId);
  return { before, after: standingOf(updated!) };
}

/** Throws 403 `email_unverified` unless the user has verified their address (opening a store needs it). */
export async function requireVerifiedEmail(unit: UnitOfWork, userId: string): Promise<void> {
  const row = await findUserById(unit.tx, userId);
  if (!row?.emailVerifiedAt) throw forbidden('Verify your e-mail address first (follow the link mailed to you)', 'email_unverified');
}

export interface AdminRequest {
  email: string;
  /** Creates the account when none has this e-mail; without it a missing account is an error. */
  password?: string;
  name?: string;
}

export type AdminOutcome = 'created' | 'promoted' | 'already_admin';

/**
 * The only way to an admin: an existing account (e-mail matched case-insensitively) is promoted,
 * its address counted verified and its sessions revoked (the role lives in the session: they sign
 * in again); a missing one is created when a password is given. Running it again changes nothing.
 * Throws 404 `user_not_found` for a missing account without a password, 400 `weak_password`.
 */
export async function createOrPromoteAdmin(
  database: TransactionRunner,
  request: AdminRequest,
  at = new Date(),
): Promise<{ outcome: AdminOutcome; user: UserStanding }> {
  const email = request.email.trim().toLowerCase();
  const name = request.name?.trim() || 'Administrator';
  // Hashed before the transaction: argon2 is slow, and a lock should not wait for it.
  let passwordHash: string | undefined;
  if (request.password !== undefined) {
    refuseWeakPassword(request.password, { email, name });
    passwordHash = await hashPassword(request.password);
  }
  return database.transaction(async (unit) => {
    const existing = await findUserByEmail(unit.tx, email);
    if (existing) {
      const locked = (await lockUserById(unit.tx, existing.id))!;
      if (locked.role === 'admin') return { outcome: 'already_admin' as const, user: standingOf(locked) };
      const promoted = await updateUser(unit.tx, locked.id, { role: 'admin', emailVerifiedAt: locked.emailVerifiedAt ?? at });
      await deleteUserSessionsAnnounced(unit.tx, locked.id);
      return { outcome: 'promoted' as const, user: standingOf(promoted!) };
    }
    if (!passwordHash)
      throw new AppError(
        404,
        'user_not_found',
        `No account has the e-mail ${email}: register first, or pass --password-stdin to create one`,
      );
    const created = await insertAdmin(unit.tx, { email, passwordHash, name, emailVerifiedAt: at });
    return { outcome: 'created' as const, user: standingOf(created) };
  });
}
