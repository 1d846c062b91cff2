import { SESSION_ENDED_CLOSE_CODE } from '../../../shared/contracts';
import { revokeUserSessions } from '../../../server/modules/auth';
import { startTestApp, type TestApp } from '../../support/app';
import { openStore } from '../../support/catalogue';
import { sessionIdOf, sidCookie } from '../../support/session-cookie';
import { registerUser, type SignedInUser, verifyEmail } from '../../support/users';
import { waitFor } from '../../support/wait-for';
import { TestWsClient } from '../../support/ws-client';

const clients: TestWsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(url: string, cookie: string): Promise<TestWsClient> {
  const client = await TestWsClient.connect(url, { cookie });
  clients.push(client);
  return client;
}

/** A second session of the same user (another browser). */
async function signInAgain(t: TestApp, user: SignedInUser): Promise<string> {
  const res = await t.request.post('/api/auth/login').send({ email: user.email, password: user.password }).expect(200);
  return sidCookie(res.headers['set-cookie']);
}

async function bodiesBetween(t: TestApp, reader: SignedInUser, other: SignedInUser): Promise<string[]> {
  const res = await t.request.get(`/api/messages?with=${other.id}`).set('Cookie', reader.cookie).expect(200);
  return res.body.messages.map((m: { body: string }) => m.body);
}

describe('a WebSocket lives no longer than its session, on every instance', () => {
  let a: TestApp;
  let b: TestApp;
  let urlA: string;
  let urlB: string;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ testDatabase: a.testDatabase });
    urlA = await a.listen();
    urlB = await b.listen();
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('when a user logs out on instance A, the socket of that session on instance B is closed with 4401 and their other session’s socket stays', async () => {
    const alice = await registerUser(a.request);
    const bob = await registerUser(a.request);
    const otherSession = await signInAgain(a, alice);
    const loggedOutTab = await connect(urlB, alice.cookie);
    const otherTab = await connect(urlB, otherSession);

    await a.request.post('/api/auth/logout').set('Cookie', alice.cookie).expect(204);

    expect((await loggedOutTab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    // Only the session that ended: the other browser still chats, and the closed tab got nothing.
    const bobTab = await connect(urlA, bob.cookie);
    bobTab.send({ type: 'message.send', to: alice.id, body: 'still there?' });
    expect((await otherTab.next('message.new')).message).toMatchObject({ body: 'still there?' });
    expect(loggedOutTab.pending().filter((f) => f.type === 'message.new')).toEqual([]);
  });

  it('when a client sends a frame right after its logout answered, the frame is not acted on and the socket closes with 4401', async () => {
    const alice = await registerUser(a.request);
    const bob = await registerUser(a.request);
    const tab = await connect(urlA, alice.cookie);

    await a.request.post('/api/auth/logout').set('Cookie', alice.cookie).expect(204);
    tab.send({ type: 'message.send', to: bob.id, body: 'sent after logout', clientId: 'late' });

    expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    expect(tab.pending().filter((f) => f.type === 'message.ack')).toEqual([]);
    expect(await bodiesBetween(a, bob, alice)).toEqual([]);
  });

  it('when a user signs in again from the same session (a new session id), the socket of the old id is closed with 4401', async () => {
    const alice = await registerUser(a.request);
    const tab = await connect(urlB, alice.cookie);

    const res = await a.request
      .post('/api/auth/login')
      .set('Cookie', alice.cookie)
      .send({ email: alice.email, password: alice.password })
      .expect(200);

    expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    // The rotated session opens a socket as usual.
    const fresh = await connect(urlB, sidCookie(res.headers['set-cookie']));
    expect(fresh.socket.readyState).toBe(fresh.socket.OPEN);
  });

  it('when a buyer becomes a vendor (a role change rotates the session), the socket of the old session is closed with 4401', async () => {
    const buyer = await registerUser(a.request);
    await verifyEmail(a.request, buyer);
    const tab = await connect(urlB, buyer.cookie);

    await a.request.post('/api/vendors').set('Cookie', buyer.cookie).send({ storeName: 'Corner shop', description: 'A store' }).expect(201);

    expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
  });

  it('when revokeUserSessions runs in a unit of work, every session row of the user goes and all their sockets on both instances close with 4401; other users keep theirs', async () => {
    const vendor = await openStore(a.request);
    const secondSession = await signInAgain(a, vendor);
    const bystander = await registerUser(a.request);
    const tabs = [await connect(urlA, vendor.cookie), await connect(urlB, vendor.cookie), await connect(urlB, secondSession)];
    const bystanderTab = await connect(urlB, bystander.cookie);

    const deleted = await a.database.transaction((unit) => revokeUserSessions(unit, vendor.id));

    expect(deleted).toBe(2);
    for (const tab of tabs) expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    const rows = await a.database.pool.query(`SELECT count(*)::int AS n FROM session_store WHERE sess->>'userId' = $1`, [vendor.id]);
    expect(rows.rows[0].n).toBe(0);
    await b.request.get('/api/auth/me').set('Cookie', vendor.cookie).expect(401);
    await b.request.get('/api/auth/me').set('Cookie', secondSession).expect(401);
    bystanderTab.send({ type: 'message.send', to: vendor.id, body: 'hello?' });
    expect(await bystanderTab.next('message.ack')).toMatchObject({ type: 'message.ack' });
    await b.request.get('/api/auth/me').set('Cookie', bystander.cookie).expect(200);
  });

  it('when revokeUserSessions runs in a unit of work that rolls back, the sessions stay', async () => {
    const user = await registerUser(a.request);
    await expect(
      a.database.transaction(async (unit) => {
        await revokeUserSessions(unit, user.id);
        throw new Error('the password change failed');
      }),
    ).rejects.toThrow('the password change failed');
    await a.request.get('/api/auth/me').set('Cookie', user.cookie).expect(200);
  });
});

describe('an expired session closes its socket', () => {
  it('when the session expires, the periodic check (WS_SESSION_CHECK_MS) closes the socket with 4401; a row deleted without an announcement too', async () => {
    const t = await startTestApp({ env: { SESSION_TTL: '2', WS_SESSION_CHECK_MS: '200' } });
    try {
      const url = await t.listen();
      const expiring = await registerUser(t.request);
      const tab = await connect(url, expiring.cookie);
      expect((await tab.closedWithin(8_000)).code).toBe(SESSION_ENDED_CLOSE_CODE);
      await t.request.get('/api/auth/me').set('Cookie', expiring.cookie).expect(401);

      // A row removed behind the app's back (an operator, a restore): nobody announced it.
      const removed = await registerUser(t.request);
      const other = await connect(url, removed.cookie);
      await t.sessionDatabase.pool.query('DELETE FROM session_store WHERE sid = $1', [sessionIdOf(removed.cookie)]);
      expect((await other.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
    } finally {
      await t.close();
    }
  });

  it('when the session has expired before the periodic check runs, a frame is not acted on and the socket closes with 4401', async () => {
    const t = await startTestApp({ env: { SESSION_TTL: '2', WS_SESSION_CHECK_MS: '600000' } });
    try {
      const url = await t.listen();
      const alice = await registerUser(t.request);
      const bob = await registerUser(t.request);
      const tab = await connect(url, alice.cookie);
      await waitFor('the session to expire', async () => (await t.request.get('/api/auth/me').set('Cookie', alice.cookie)).status === 401);

      tab.send({ type: 'message.send', to: bob.id, body: 'from an expired session', clientId: 'expired' });

      expect((await tab.closedWithin()).code).toBe(SESSION_ENDED_CLOSE_CODE);
      expect(tab.pending().filter((f) => f.type === 'message.ack')).toEqual([]);
      const rows = await t.database.pool.query('SELECT count(*)::int AS n FROM messages WHERE body = $1', ['from an expired session']);
      expect(rows.rows[0].n).toBe(0);
    } finally {
      await t.close();
    }
  });
});
