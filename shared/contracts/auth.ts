import { z } from 'zod';
import { userRoles } from '../enums';
import { displayName } from './display-name';
import { text } from './text';

export const Email = text(254)
  .toLowerCase()
  .pipe(z.email({ message: 'must be an e-mail address' }));

const Password = z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters');

export const RegisterBody = z.strictObject({
  email: Email,
  password: Password,
  name: displayName(100),
});

export const LoginBody = z.strictObject({
  email: text(254).toLowerCase(),
  password: z.string().max(128),
});

/** What a user changes of their own account (`PATCH /api/auth/me`): the name. Never the role or the e-mail (a strict object: either is a 400). */
export const UpdateMeBody = z.strictObject({
  name: displayName(100),
});

/** Changing one's password (`POST /api/auth/password`): the current one proves it is the owner at the keyboard. */
export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().max(128),
  newPassword: Password,
});

/** Asking for a reset link (`POST /api/auth/password-reset`); the answer never tells whether the address exists. */
export const PasswordResetBody = z.strictObject({
  email: text(254).toLowerCase(),
});

/*
 * A mailed token as the client sends it back: any string up to a bound, so a malformed token is
 * refused exactly like an unknown, used or expired one (400 `invalid_token`), not by the validator.
 */
const MailedToken = z.string().max(256);

export const PasswordResetConfirmBody = z.strictObject({
  token: MailedToken,
  password: Password,
});

export const VerifyEmailBody = z.strictObject({
  token: MailedToken,
});

/** The answer to a reset request: the same body whether or not the address has an account. */
export const PasswordResetAccepted = z.object({ message: z.string() });

export const UserView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(userRoles),
  /** Whether the user followed the link mailed to them; only verified users may open a store. */
  emailVerified: z.boolean(),
  createdAt: z.string(),
});

export type RegisterBody = z.infer<typeof RegisterBody>;
export type LoginBody = z.infer<typeof LoginBody>;
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;
export type UserView = z.infer<typeof UserView>;
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;
export type PasswordResetConfirmBody = z.infer<typeof PasswordResetConfirmBody>;
