import { z } from 'zod';
import { userRoles } from '../enums';
import { displayName } from './display-name';
import { text } from './text';

export const Email = text(254)
  .toLowerCase()
  .pipe(z.email({ message: 'must be an e-mail address' }));

export const RegisterBody = z.strictObject({
  email: Email,
  password: z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters'),
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

export const UserView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(userRoles),
  createdAt: z.string(),
});

export type RegisterBody = z.infer<typeof RegisterBody>;
export type LoginBody = z.infer<typeof LoginBody>;
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;
export type UserView = z.infer<typeof UserView>;
