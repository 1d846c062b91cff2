import type { LoginBody, RegisterBody, UpdateMeBody, UserView } from '../../../shared/contracts';
import type { Db, TransactionRunner, UnitOfWork } from '../../db';
import { isUniqueViolation } from '../../db';
import { AppError, conflict } from '../../lib/errors';
import { findUserByEmail, findUserById, insertUser, lockUserById, updateUserName, type UserRow } from './auth.repository';
import { accountSuspended } from './accounts.service';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password';
import { refuseWeakPassword } from './password-policy';

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    emailVerified: row.emailVerifiedAt !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Effects of a new account (e.g. the welcome e-mail), recorded in the same unit of work. */
export type OnUserRegistered = (unit: UnitOfWork, user: UserRow) => Promise<void>;

export async function registerUser(database: TransactionRunner, input: RegisterBody, onRegistered?: OnUserRegistered): Promise<UserRow> {
  refuseWeakPassword(input.password, input);
  const passwordHash = await hashPassword(input.password);
  try {
    return await database.transaction(async (unit) => {
      const user = await insertUser(unit.tx, { email: input.email, passwordHash, name: input.name });
      await onRegistered?.(unit, user);
      return user;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('email_taken', 'An account with this e-mail already exists');
    throw error;
  }
}

const INVALID = () => new AppError(401, 'invalid_credentials', 'E-mail or password is wrong');

/**
 * Same answer, and the same argon2 work, whether or not the e-mail exists. A suspended account is
 * told so only after the right password: a guesser learns nothing about suspension.
 */
export async function authenticate(db: Db, input: LoginBody): Promise<UserRow> {
  const user = await findUserByEmail(db, input.email);
  if (!user) {
    await verifyAgainstDummy(input.password);
    throw INVALID();
  }
  if (!(await verifyPassword(user.passwordHash, input.password))) throw INVALID();
  if (user.suspendedAt) throw accountSuspended();
  return user;
}

/**
 * Checked again once the session is saved: a suspension or password change that committed while
 * the (slow) password check ran deleted the sessions it found, not the one started after it. The
 * user's row lock waits for one still in progress. Throws what `authenticate` would answer now.
 */
export async function confirmSignIn(db: Db, user: UserRow): Promise<void> {
  const now = await lockUserById(db, user.id);
  if (!now || now.passwordHash !== user.passwordHash) throw INVALID();
  if (now.suspendedAt) throw accountSuspended();
}

export { findUserById };

/** Changes what a user may change of their own account (the name); undefined when the account is gone. */
export async function updateProfile(db: Db, userId: string, changes: UpdateMeBody): Promise<UserRow | undefined> {
  return updateUserName(db, userId, changes.name);
}
