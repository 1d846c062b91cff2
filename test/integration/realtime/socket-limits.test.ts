import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type SignedInUser } from '../../support/users';
import { waitFor } from '../../support/wait-for';
import { refusedUpgrade, TestWsClient } from '../../support/ws-client';

const clients: TestWsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(url: string, user: SignedInUser): Promise<TestWsClient> {
  const client = await TestWsClient.connect(url, { cookie: user.cookie });
  clients.push(client);
  return client;
}

/** Waits until the server has seen `n` connections close (the slot is given back with the TCP socket). */
function activeConnections(t: TestApp, n: number) {
  return waitFor(`${n} active connections`, async () => {
    const stats = (await t.request.get('/api/health/ws-stats').expect(200)).body;
    return stats.connections.active === n;
  });
}

describe('per-user limits (defaults: 10 sockets per user)', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { WS_MESSAGES_PER_MIN: '5' } });
    url = await t.listen();
  });
  afterAll(async () => {
    await t.close();
  });

  it('when one user sends over 10 sockets, WS_MESSAGES_PER_MIN applies to their total, not to each socket', async () => {
    const [sender, receiver] = [await registerUser(t.request), await registerUser(t.request)];
    const tabs: TestWsClient[] = [];
    for (let i = 0; i < 10; i++) tabs.push(await connect(url, sender));

    for (const [i, tab] of tabs.entries()) tab.send({ type: 'message.send', to: receiver.id, body: `tab ${i}`, clientId: String(i) });
    const answers = await Promise.all(tabs.map((tab) => tab.next((f) => f.type === 'message.ack' || f.type === 'error')));

    expect(answers.filter((f) => f.type === 'message.ack')).toHaveLength(5);
    expect(answers.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(Array(5).fill('rate_limited'));
    const stored = await t.request.get(`/api/messages?with=${sender.id}`).set('Cookie', receiver.cookie).expect(200);
    expect(stored.body.messages).toHaveLength(5);
  });

  it('when a user already holds 10 sockets, the 11th upgrade is refused with 429 and Retry-After; closing one frees a slot', async () => {
    const user = await registerUser(t.request);
    const before = (await t.request.get('/api/health/ws-stats').expect(200)).body.connections.active;
    const tabs: TestWsClient[] = [];
    for (let i = 0; i < 10; i++) tabs.push(await connect(url, user));

    const refused = await refusedUpgrade(url, { Cookie: user.cookie });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.error).toMatchObject({ code: 'too_many_connections' });
    // Another user is not affected.
    const other = await connect(url, await registerUser(t.request));
    expect(other.socket.readyState).toBe(other.socket.OPEN);

    await tabs[0]!.close();
    await activeConnections(t, before + 10);
    const again = await connect(url, user);
    expect(again.socket.readyState).toBe(again.socket.OPEN);
  });
});

describe('per-address limit (WS_MAX_SOCKETS_PER_IP)', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { WS_MAX_SOCKETS_PER_IP: '3' } });
    url = await t.listen();
  });
  afterAll(async () => {
    await t.close();
  });

  it('when one address holds WS_MAX_SOCKETS_PER_IP sockets (any users), the next upgrade is refused with 429; a closed socket frees its slot', async () => {
    const [first, second, third] = [await registerUser(t.request), await registerUser(t.request), await registerUser(t.request)];
    const held = [await connect(url, first), await connect(url, first), await connect(url, second)];

    expect((await refusedUpgrade(url, { Cookie: third.cookie })).status).toBe(429);
    // Refused and unauthenticated attempts give their slot back.
    expect((await refusedUpgrade(url, {})).status).toBe(429);

    await held[2]!.close();
    await activeConnections(t, 2);
    expect((await refusedUpgrade(url, {})).status).toBe(401);
    const admitted = await connect(url, third);
    expect(admitted.socket.readyState).toBe(admitted.socket.OPEN);
  });
});
