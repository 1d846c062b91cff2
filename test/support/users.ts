import { randomBytes } from 'node:crypto';
import type supertest from 'supertest';
import { sidCookie } from './session-cookie';

export interface SignedInUser {
  id: string;
  email: string;
  password: string;
  cookie: string;
}

/** Registers a fresh user through the API and returns its session cookie. */
export async function registerUser(
  request: ReturnType<typeof supertest>,
  overrides: Partial<{ email: string; password: string; name: string; cookieName: string }> = {},
): Promise<SignedInUser> {
  const email = overrides.email ?? `user-${randomBytes(5).toString('hex')}@example.com`;
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const res = await request
    .post('/api/auth/register')
    .send({ email, password, name: overrides.name ?? 'Test User' })
    .expect(201);
  return { id: res.body.user.id, email, password, cookie: sidCookie(res.headers['set-cookie'], overrides.cookieName) };
}
