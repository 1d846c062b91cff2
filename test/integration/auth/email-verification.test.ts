import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore as openVerifiedStore } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { placeCardOrder } from '../../support/orders';
import { mailedToken, mailsTo, registerUser, verifyEmail } from '../../support/users';

/* Issue 19, accounts: an address is verified through a mailed link; only verified users open a store. */
const clock = new ManualClock(Date.now());
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ deps: { clock } });
});
afterAll(() => t.close());

const openStore = (cookie: string) => t.request.post('/api/vendors').set('Cookie', cookie).send({ storeName: 'Hat Corner' });

describe('e-mail verification', () => {
  it('when a user registers, then a verification link is queued with the welcome mail and the account shows unverified', async () => {
    const user = await registerUser(t.request);
    expect((await mailsTo(t, user.email)).map((m) => m.kind).sort()).toEqual(['email_verification', 'welcome']);
    const [mail] = await mailsTo(t, user.email, 'email_verification');
    expect(mail!.text).toContain(`${t.config.PUBLIC_BASE_URL}/verify-email?token=`);
    const me = await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
    expect(me.body.user.emailVerified).toBe(false);
  });

  it('when unverified, then browsing and buying work but opening a store is 403 email_unverified; after the link, 201', async () => {
    const seller = await openVerifiedStore(t.request);
    const product = await listProduct(t.request, seller);
    const user = await registerUser(t.request);
    await t.request.get('/api/products').set('Cookie', user.cookie).expect(200);
    await placeCardOrder(t.request, user, [{ productId: product.id, quantity: 1 }]);
    const refused = await openStore(user.cookie).expect(403);
    expect(refused.body.error.code).toBe('email_unverified');

    const token = await mailedToken(t, user.email, 'email_verification');
    const verified = await t.request.post('/api/auth/verify-email').send({ token }).expect(200);
    expect(verified.body.user).toMatchObject({ id: user.id, emailVerified: true });
    expect((await t.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200)).body.user.emailVerified).toBe(true);
    await openStore(user.cookie).expect(201);

    // Single use.
    expect((await t.request.post('/api/auth/verify-email').send({ token }).expect(400)).body.error.code).toBe('invalid_token');
  });

  it('when the token is unknown, malformed or 48 h old, then 400 invalid_token', async () => {
    for (const token of ['A'.repeat(43), 'not a token', '']) {
      const res = await t.request.post('/api/auth/verify-email').send({ token }).expect(400);
      expect(res.body.error.code).toBe('invalid_token');
    }
    expect((await t.request.post('/api/auth/verify-email').send({ token: 7 }).expect(400)).body.error.code).toBe('validation_failed');
    const user = await registerUser(t.request);
    const token = await mailedToken(t, user.email, 'email_verification');
    clock.advance(48 * 60 * 60 * 1000);
    expect((await t.request.post('/api/auth/verify-email').send({ token }).expect(400)).body.error.code).toBe('invalid_token');
  });

  it('when a new link is asked for, then it works and the earlier one does not; a verified user gets 409; anonymous 401', async () => {
    const user = await registerUser(t.request);
    const first = await mailedToken(t, user.email, 'email_verification');
    await t.request.post('/api/auth/verify-email/resend').set('Cookie', user.cookie).expect(202);
    const second = await mailedToken(t, user.email, 'email_verification');
    expect(second).not.toBe(first);
    expect((await t.request.post('/api/auth/verify-email').send({ token: first }).expect(400)).body.error.code).toBe('invalid_token');
    await verifyEmail(t.request, user);
    const again = await t.request.post('/api/auth/verify-email/resend').set('Cookie', user.cookie).expect(409);
    expect(again.body.error.code).toBe('already_verified');
    await t.request.post('/api/auth/verify-email/resend').expect(401);
  });
});
