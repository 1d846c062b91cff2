import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, verifyEmail } from '../../support/users';

/*
 * Issue 16, point 9: names go into mails anyone can have sent to any address (the welcome mail),
 * so a name is one line of printable text without markup or web addresses.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const STRONG_PASSWORD = 'copper kettle under the stairs';
const email = () => `name-${Math.random().toString(36).slice(2)}@example.com`;

describe('account names', () => {
  it.each([
    ['a URL', 'Eve https://evil.example/prize'],
    ['any scheme', 'Eve ftp://evil.example'],
    ['a www. address', 'Visit www.evil.example'],
    ['a line break', 'Eve\nYour account is suspended'],
    ['a carriage return', 'Eve\rBob'],
    ['a tab', 'Eve\tBob'],
    ['a Unicode line separator', 'Eve\u2028Bob'],
    ['a bidirectional override', 'Eve \u202Egnp.exe'],
    ['markup', '<b>Eve</b>'],
    ['a lone angle bracket', 'Eve > Bob'],
  ])('when the name holds %s, then registration is 400 validation_failed naming the field', async (_what, name) => {
    const res = await t.request.post('/api/auth/register').send({ email: email(), password: STRONG_PASSWORD, name }).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual(['name']);
  });

  it.each([
    ['accents and apostrophes', "Zoë O'Brien-Ñúñez"],
    ['initials', 'J.R.R. Tolkien'],
    ['a brand with a dot', 'Books.co'],
    ['non-Latin scripts', '山田 太郎'],
  ])('when the name holds %s, then the account is created', async (_what, name) => {
    const res = await t.request.post('/api/auth/register').send({ email: email(), password: STRONG_PASSWORD, name }).expect(201);
    expect(res.body.user.name).toBe(name);
  });

  it('the welcome mail for an accepted name holds it escaped in its HTML', async () => {
    const address = email();
    await t.request
      .post('/api/auth/register')
      .send({ email: address, password: STRONG_PASSWORD, name: `Zoë "Z" O'Brien & Co` })
      .expect(201);
    const { rows } = await t.database.pool.query(`SELECT html, text FROM email_outbox WHERE to_email = $1 AND kind = 'welcome'`, [address]);
    expect(rows[0].html).toContain('Hello Zoë &#34;Z&#34; O&#39;Brien &#38; Co,');
    expect(rows[0].text).toContain(`Hello Zoë "Z" O'Brien & Co,`);
  });
});

describe('store names', () => {
  it('when a store name holds a web address or a line break, then becoming a vendor is 400', async () => {
    const user = await registerUser(t.request);
    await verifyEmail(t.request, user);
    for (const storeName of ['Hats at https://evil.example', 'Hats\nClick here', 'www.hats.example']) {
      const res = await t.request.post('/api/vendors').set('Cookie', user.cookie).send({ storeName }).expect(400);
      expect(res.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'))).toEqual(['storeName']);
    }
    await t.request.post('/api/vendors').set('Cookie', user.cookie).send({ storeName: "Zoë's Hats & Caps" }).expect(201);
  });
});
