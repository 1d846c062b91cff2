import { randomBytes } from 'node:crypto';
import type supertest from 'supertest';
import { createOrPromoteAdmin } from '../../server/modules/auth';
import { type TestApp, testAppOf } from './app';
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

export interface Mail {
  kind: string;
  subject: string;
  text: string;
  html: string;
}

/** The mails queued for an address (the outbox the app writes), oldest first; `kind` narrows them. */
export async function mailsTo(t: TestApp, email: string, kind?: string): Promise<Mail[]> {
  const { rows } = await t.database.pool.query<Mail>(
    `SELECT kind, subject, text, html FROM email_outbox
     WHERE lower(to_email) = lower($1) AND ($2::text IS NULL OR kind = $2) ORDER BY created_at, id`,
    [email, kind ?? null],
  );
  return rows;
}

/** The token of the newest mail of `kind` to `email`, read from its link as a user would. */
export async function mailedToken(t: TestApp, email: string, kind: 'email_verification' | 'password_reset'): Promise<string> {
  const mail = (await mailsTo(t, email, kind)).at(-1);
  const token = mail?.text.match(/[?&]token=([A-Za-z0-9_-]+)/)?.[1];
  if (!token) throw new Error(`no ${kind} mail with a link was queued for ${email}`);
  return token;
}

/** Follows the verification link mailed at registration (POST /api/auth/verify-email). */
export async function verifyEmail(request: ReturnType<typeof supertest>, user: Pick<SignedInUser, 'email'>): Promise<void> {
  const token = await mailedToken(testAppOf(request), user.email, 'email_verification');
  await request.post('/api/auth/verify-email').send({ token }).expect(200);
}

/** An admin (made as the operator's command does, never over the API), signed in through the API. */
export async function createAdmin(t: TestApp): Promise<SignedInUser> {
  const email = `admin-${randomBytes(5).toString('hex')}@example.com`;
  const password = `admin ${randomBytes(8).toString('hex')} keys`;
  const { user } = await createOrPromoteAdmin(t.database, { email, password, name: 'Test Admin' });
  const res = await t.request.post('/api/auth/login').send({ email, password }).expect(200);
  return { id: user.id, email, password, cookie: sidCookie(res.headers['set-cookie']) };
}
