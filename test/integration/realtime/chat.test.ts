import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type SignedInUser } from '../../support/users';
import { type Frame, refusedUpgradeStatus, TestWsClient } from '../../support/ws-client';

describe('realtime chat over /ws', () => {
  let t: TestApp;
  let url: string;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let carol: SignedInUser;
  const clients: TestWsClient[] = [];

  // Matching on content, not just type: a delivery still in flight from an earlier test must not be taken for this one.
  const newMessage = (match: Record<string, unknown>) => (f: Frame) =>
    f.type === 'message.new' && Object.entries(match).every(([k, v]) => (f.message as Record<string, unknown>)[k] === v);

  async function connect(user: SignedInUser): Promise<TestWsClient> {
    const client = await TestWsClient.connect(url, { cookie: user.cookie });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { APP_ORIGIN: 'https://shop.example.com' } });
    url = await t.listen();
    alice = await registerUser(t.request);
    bob = await registerUser(t.request);
    carol = await registerUser(t.request);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await t.close();
  });

  describe('upgrade', () => {
    it('when there is no session cookie or a bad one, the upgrade is answered 401 and counted as a failed authentication', async () => {
      const before = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      expect(await refusedUpgradeStatus(url)).toBe(401);
      expect(await refusedUpgradeStatus(url, { Cookie: 'sid=s%3Aforged.signature' })).toBe(401);
      const after = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      expect(after.failedAuthentications).toBe(before.failedAuthentications + 2);
      expect(after.connections.total).toBe(before.connections.total);
      expect(t.logs.lines().join('\n')).not.toContain(alice.cookie.split('=')[1]);
    });

    it('when the Origin is foreign, the upgrade is refused with 403; the configured origin is accepted', async () => {
      expect(await refusedUpgradeStatus(url, { Cookie: alice.cookie, Origin: 'https://evil.example.com' })).toBe(403);
      const ok = await TestWsClient.connect(url, { cookie: alice.cookie, origin: 'https://shop.example.com' });
      clients.push(ok);
    });

    it('when the path is not /ws, the upgrade is refused', async () => {
      expect(await refusedUpgradeStatus(url, { Cookie: alice.cookie }, '/other')).toBe(404);
    });

    it('an accepted connection shows in ws-stats (active, peak, total)', async () => {
      const before = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      await connect(alice);
      await connect(alice);
      const during = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      // Exact on the monotonic total; `active` may still include a previous test's closing sockets.
      expect(during.connections.active).toBeGreaterThanOrEqual(2);
      expect(during.connections.total).toBe(before.connections.total + 2);
      expect(during.connections.peak).toBeGreaterThanOrEqual(2);
      const metrics = await t.request.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/ws_connections_active \d+/);
    });
  });

  describe('messages', () => {
    it('a message is delivered as message.new to both parties and to every tab of each, and acked to the sender', async () => {
      const aliceTab1 = await connect(alice);
      const aliceTab2 = await connect(alice);
      const bobTab1 = await connect(bob);
      const bobTab2 = await connect(bob);
      const carolTab = await connect(carol);

      aliceTab1.send({ type: 'message.send', to: bob.id, body: '  Is the lamp still available?  ', clientId: 'c-1' });
      const ack = await aliceTab1.next('message.ack');
      expect(ack).toEqual({ type: 'message.ack', clientId: 'c-1', messageId: expect.any(String) });

      for (const tab of [aliceTab1, aliceTab2, bobTab1, bobTab2]) {
        const frame = await tab.next(newMessage({ id: ack.messageId }));
        expect(frame.message).toEqual({
          id: ack.messageId,
          from: alice.id,
          to: bob.id,
          body: 'Is the lamp still available?',
          createdAt: expect.any(String),
          readAt: null,
        });
      }
      // Carol is not a party: a later message to her arrives first, so nothing else was queued for her.
      bobTab1.send({ type: 'message.send', to: carol.id, body: 'hello carol' });
      expect((await carolTab.next('message.new')).message).toMatchObject({ from: bob.id, body: 'hello carol' });
      expect(carolTab.pending()).toEqual([]);
    });

    it('unknown recipient and messaging yourself are answered with an error frame', async () => {
      const tab = await connect(alice);
      tab.send({ type: 'message.send', to: '00000000-0000-4000-8000-000000000000', body: 'hi', clientId: 'x' });
      expect(await tab.next('error')).toMatchObject({ code: 'recipient_not_found', clientId: 'x' });
      tab.send({ type: 'message.send', to: alice.id, body: 'hi' });
      expect(await tab.next('error')).toMatchObject({ code: 'cannot_message_self' });
      // The same id in upper case is still oneself.
      tab.send({ type: 'message.send', to: alice.id.toUpperCase(), body: 'hi' });
      expect(await tab.next('error')).toMatchObject({ code: 'cannot_message_self' });
    });

    it('malformed frames are answered with an error and the connection keeps working', async () => {
      const tab = await connect(alice);
      const before = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      tab.send('this is not json{');
      expect(await tab.next('error')).toMatchObject({ code: 'invalid_json', message: expect.any(String) });
      tab.send({ type: 'dance' });
      expect(await tab.next('error')).toMatchObject({ code: 'unknown_type' });
      tab.send([1, 2, 3]);
      expect(await tab.next('error')).toMatchObject({ code: 'unknown_type' });
      tab.send({ type: 'message.send', to: 'not-a-uuid', body: '', clientId: 'bad' });
      const invalid = await tab.next('error');
      expect(invalid).toMatchObject({ code: 'validation_failed', clientId: 'bad' });
      expect((invalid.details as { issues: Array<{ path: string[] }> }).issues.map((i) => i.path[0]).sort()).toEqual(['body', 'to']);
      tab.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      expect(await tab.next('error')).toMatchObject({ code: 'invalid_json' });

      tab.send({ type: 'message.send', to: bob.id, body: 'still here', clientId: 'ok' });
      expect((await tab.next(newMessage({ body: 'still here' }))).message).toMatchObject({ from: alice.id, to: bob.id });
      // The ack and the delivery travel separately (the delivery via NOTIFY): wait for both.
      expect(await tab.next('message.ack')).toMatchObject({ clientId: 'ok' });
      const after = (await t.request.get('/api/health/ws-stats').expect(200)).body;
      expect(after.messages.received - before.messages.received).toBe(6);
      expect(after.messages.errored - before.messages.errored).toBe(5);
      expect(after.messages.sent - before.messages.sent).toBeGreaterThanOrEqual(7);
    });

    it('a large message body is delivered intact (compressed on the wire over 1 KB)', async () => {
      const tab = await connect(alice);
      expect(tab.socket.extensions).toContain('permessage-deflate');
      const body = 'x'.repeat(3_000);
      tab.send({ type: 'message.send', to: bob.id, body });
      expect((await tab.next(newMessage({ body }))).message).toMatchObject({ from: alice.id, to: bob.id });
    });
  });

  describe('history and conversations', () => {
    it('history is newest first with a keyset cursor, and only the caller’s own conversation', async () => {
      const dave = await registerUser(t.request);
      const erin = await registerUser(t.request);
      const daveTab = await connect(dave);
      for (let i = 1; i <= 5; i++) {
        daveTab.send({ type: 'message.send', to: erin.id, body: `m${i}` });
        await daveTab.next('message.ack');
      }
      const first = await t.request.get(`/api/messages?with=${erin.id}&limit=2`).set('Cookie', dave.cookie).expect(200);
      expect(first.body.messages.map((m: { body: string }) => m.body)).toEqual(['m5', 'm4']);
      const second = await t.request
        .get(`/api/messages?with=${erin.id}&limit=2&cursor=${first.body.nextCursor}`)
        .set('Cookie', dave.cookie)
        .expect(200);
      expect(second.body.messages.map((m: { body: string }) => m.body)).toEqual(['m3', 'm2']);
      const last = await t.request
        .get(`/api/messages?with=${erin.id}&limit=2&cursor=${second.body.nextCursor}`)
        .set('Cookie', dave.cookie)
        .expect(200);
      expect(last.body).toEqual({ messages: [expect.objectContaining({ body: 'm1' })], nextCursor: null });
      // Erin sees the same conversation from her side.
      const erinView = await t.request.get(`/api/messages?with=${dave.id}`).set('Cookie', erin.cookie).expect(200);
      expect(erinView.body.messages).toHaveLength(5);

      // Privacy: Carol asking for "the conversation with Erin" gets her own (empty) one, not Dave's,
      // and cannot page Dave's conversation with its cursor.
      const carolView = await t.request.get(`/api/messages?with=${erin.id}`).set('Cookie', carol.cookie).expect(200);
      expect(carolView.body).toEqual({ messages: [], nextCursor: null });
      const stolen = await t.request
        .get(`/api/messages?with=${erin.id}&cursor=${first.body.nextCursor}`)
        .set('Cookie', carol.cookie)
        .expect(400);
      expect(stolen.body.error.code).toBe('invalid_cursor');
    });

    it('history needs a session and a valid user id', async () => {
      const anonymous = await t.request.get(`/api/messages?with=${bob.id}`).expect(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
      const invalid = await t.request.get('/api/messages?with=bob&limit=0').set('Cookie', alice.cookie).expect(400);
      expect(invalid.body.error).toMatchObject({ code: 'validation_failed', requestId: expect.any(String) });
      expect(invalid.body.error.details.issues.map((i: { path: string[] }) => i.path[0]).sort()).toEqual(['limit', 'with']);
    });

    it('conversations list the other party, the last message and the unread count; marking read clears it', async () => {
      const frank = await registerUser(t.request, { name: 'Frank' });
      const gina = await registerUser(t.request, { name: 'Gina' });
      const hank = await registerUser(t.request, { name: 'Hank' });
      const ginaTab = await connect(gina);
      const hankTab = await connect(hank);
      for (const body of ['g1', 'g2']) {
        ginaTab.send({ type: 'message.send', to: frank.id, body });
        await ginaTab.next('message.ack');
      }
      hankTab.send({ type: 'message.send', to: frank.id, body: 'h1' });
      await hankTab.next('message.ack');

      const list = await t.request.get('/api/conversations').set('Cookie', frank.cookie).expect(200);
      expect(list.body.conversations).toEqual([
        { with: { id: hank.id, name: 'Hank' }, lastMessage: expect.objectContaining({ body: 'h1', from: hank.id }), unreadCount: 1 },
        { with: { id: gina.id, name: 'Gina' }, lastMessage: expect.objectContaining({ body: 'g2', from: gina.id }), unreadCount: 2 },
      ]);
      const ginaSide = await t.request.get('/api/conversations').set('Cookie', gina.cookie).expect(200);
      expect(ginaSide.body.conversations).toEqual([
        { with: { id: frank.id, name: 'Frank' }, lastMessage: expect.objectContaining({ body: 'g2' }), unreadCount: 0 },
      ]);

      const read = await t.request.post('/api/messages/read').set('Cookie', frank.cookie).send({ with: gina.id }).expect(200);
      expect(read.body).toEqual({ updated: 2 });
      const after = await t.request.get('/api/conversations').set('Cookie', frank.cookie).expect(200);
      expect(after.body.conversations.map((c: { unreadCount: number }) => c.unreadCount)).toEqual([1, 0]);
      const history = await t.request.get(`/api/messages?with=${gina.id}`).set('Cookie', frank.cookie).expect(200);
      expect(history.body.messages.every((m: { readAt: string | null }) => m.readAt !== null)).toBe(true);
    });
  });
});
