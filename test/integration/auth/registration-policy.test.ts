import { startTestApp, type TestApp } from '../../support/app';

/*
 * Issue 16, point 10: a password must resist guessing (zxcvbn-ts, score 3 or more) and must not
 * contain the e-mail or the name.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const register = (body: { email: string; password: string; name: string }) => t.request.post('/api/auth/register').send(body);

describe('password policy at registration', () => {
  it.each([
    ['a common password', 'password'],
    ['a digit run', '12345678'],
    ['a keyboard walk', 'qwertyuiop'],
    ['a common password with l33t and a digit', 'P@ssw0rd1'],
    ['a common password in full-width forms', 'ＰＡＳＳＷＯＲＤ１２３'],
  ])('when the password is %s, then it is 400 weak_password with advice, and no account exists', async (_what, password) => {
    const email = `weak-${Math.random().toString(36).slice(2)}@example.com`;
    const res = await register({ email, password, name: 'Grace Hopper' }).expect(400);
    expect(res.body.error.code).toBe('weak_password');
    expect(res.body.error.message).toMatch(/too easy to guess/);
    expect(res.body.error.details.suggestions.length + (res.body.error.details.warning ? 1 : 0)).toBeGreaterThan(0);
    const { rows } = await t.database.pool.query('SELECT 1 FROM users WHERE email = $1', [email]);
    expect(rows).toHaveLength(0);
  });

  it('when the password is the e-mail itself, then it is 400 weak_password', async () => {
    const res = await register({
      email: 'margaret.hamilton@example.com',
      password: 'margaret.hamilton@example.com',
      name: 'Margaret',
    }).expect(400);
    expect(res.body.error.code).toBe('weak_password');
    expect(res.body.error.message).toMatch(/e-mail address or your name/);
  });

  it('when the password contains the e-mail local part (any case, any separators), then it is 400 weak_password', async () => {
    const res = await register({ email: 'kjohnson@example.com', password: 'KJohnson-loves-1969!', name: 'Katherine' }).expect(400);
    expect(res.body.error.code).toBe('weak_password');
  });

  it('when the password is the e-mail in full-width forms, then it is 400 weak_password', async () => {
    const res = await register({
      email: 'bobbytables@example.com',
      password: 'ｂｏｂｂｙｔａｂｌｅｓ＠ｅｘａｍｐｌｅ．ｃｏｍ',
      name: 'Bob',
    }).expect(400);
    expect(res.body.error.message).toMatch(/e-mail address or your name/);
  });

  it('when the password is the name, then it is 400 weak_password', async () => {
    const res = await register({ email: 'ada@example.org', password: 'Augusta Ada King-Noel', name: 'Augusta Ada King-Noel' }).expect(400);
    expect(res.body.error.code).toBe('weak_password');
    expect(res.body.error.message).toMatch(/e-mail address or your name/);
  });

  it('when the password is a strong passphrase, then the account is created (201) and can sign in', async () => {
    const body = { email: 'strong@example.com', password: 'copper kettle under the stairs', name: 'Strong Passphrase' };
    await register(body).expect(201);
    await t.request.post('/api/auth/login').send({ email: body.email, password: body.password }).expect(200);
  });
});
