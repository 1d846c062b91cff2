import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type SignedInUser } from '../../support/users';
import { refusedUpgradeStatus, TestWsClient } from '../../support/ws-client';

describe('realtime connection limits', () => {
  let t: TestApp;
  let url: string;
  let alice: SignedInUser;
  let bob: SignedInUser;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: { WS_HEARTBEAT_MS: '400', WS_MESSAGES_PER_MIN: '3', WS_MAX_PAYLOAD: '4096' } });
    url = await t.listen();
    alice = await registerUser(t.request);
    bob = await registerUser(t.request);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await t.close();
  });

  async function connect(user: SignedInUser, options: { autoPong?: boolean } = {}): Promise<TestWsClient> {
    const client = await TestWsClient.connect(url, { cookie: user.cookie, ...options });
    clients.push(client);
    return client;
  }

  it('when a client never answers pings, it is terminated after a missed interval and counted; a responsive one stays', async () => {
    const before = (await t.request.get('/api/health/ws-stats').expect(200)).body;
    const silent = await connect(alice, { autoPong: false });
    const responsive = await connect(bob);
    let pings = 0;
    responsive.socket.on('ping', () => pings++);

    const { code } = await silent.closedWithin();
    // Terminated (no close frame): the client sees an abnormal closure.
    expect(code).toBe(1006);
    const after = (await t.request.get('/api/health/ws-stats').expect(200)).body;
    expect(after.heartbeatTerminations).toBe(before.heartbeatTerminations + 1);
    expect(responsive.socket.readyState).toBe(responsive.socket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(1);
    // Still fully working after surviving the same heartbeat rounds.
    responsive.send({ type: 'message.send', to: alice.id, body: 'ping-proof' });
    expect((await responsive.next('message.new')).message).toMatchObject({ body: 'ping-proof' });
  });

  it('when a user sends more than WS_MESSAGES_PER_MIN frames, the excess is answered rate_limited and the connection stays open', async () => {
    const tab = await connect(alice);
    for (let i = 1; i <= 4; i++) tab.send({ type: 'message.send', to: bob.id, body: `burst ${i}`, clientId: String(i) });
    const acks = [await tab.next('message.ack'), await tab.next('message.ack'), await tab.next('message.ack')];
    // Frames of one connection are handled in order, so they are persisted and delivered in order.
    expect(acks.map((a) => a.clientId)).toEqual(['1', '2', '3']);
    const delivered = [await tab.next('message.new'), await tab.next('message.new'), await tab.next('message.new')];
    expect(delivered.map((f) => (f.message as { body: string }).body)).toEqual(['burst 1', 'burst 2', 'burst 3']);
    expect(await tab.next('error')).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    expect(tab.socket.readyState).toBe(tab.socket.OPEN);
    // The limit is per user: another tab of the same user gets no fresh budget; another user still sends.
    const other = await connect(alice);
    other.send({ type: 'message.send', to: bob.id, body: 'from another tab' });
    expect(await other.next('error')).toMatchObject({ code: 'rate_limited' });
    const bobTab = await connect(bob);
    bobTab.send({ type: 'message.send', to: alice.id, body: 'from bob' });
    expect(await bobTab.next('message.ack')).toMatchObject({ type: 'message.ack' });
  });

  it('when a frame exceeds WS_MAX_PAYLOAD, the connection is closed with 1009 (message too big)', async () => {
    const tab = await connect(alice);
    tab.send({ type: 'message.send', to: bob.id, body: 'y'.repeat(5_000) });
    expect((await tab.closedWithin()).code).toBe(1009);
  });

  it('when the database drops the listener connection, clients are told to resync and later messages still arrive', async () => {
    // Fresh users: deliveries still in flight from earlier tests must not reach this tab.
    const [receiver, author] = [await registerUser(t.request), await registerUser(t.request)];
    const tab = await connect(receiver);
    const killed = await t.database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'notify-listener'`,
    );
    expect(killed.rowCount).toBe(1);
    expect(await tab.next('resync')).toEqual({ type: 'resync' });
    const sender = await connect(author);
    sender.send({ type: 'message.send', to: receiver.id, body: 'after the blip' });
    expect((await tab.next('message.new')).message).toMatchObject({ from: author.id, body: 'after the blip' });
  });

  // Last: it shuts this app down.
  it('once shutdown begins, open clients get 1001 and new upgrades are refused with 503', async () => {
    const tab = await connect(alice);
    const shutdown = t.app.beginShutdown();
    expect(await tab.closedWithin()).toMatchObject({ code: 1001 });
    await shutdown;
    expect(await refusedUpgradeStatus(url, { Cookie: alice.cookie })).toBe(503);
  });
});
