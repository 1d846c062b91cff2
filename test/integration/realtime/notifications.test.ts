import type { RealtimeModule } from '../../../server/modules/realtime';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type SignedInUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';

describe('notifications', () => {
  let t: TestApp;
  let url: string;
  let realtime: RealtimeModule;
  let vendor: SignedInUser;
  let other: SignedInUser;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    url = await t.listen();
    realtime = t.app.modules.find((m) => m.name === 'realtime') as RealtimeModule;
    vendor = await registerUser(t.request);
    other = await registerUser(t.request);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await t.close();
  });

  it('a notification created inside a committed transaction is pushed to every tab of its user; a rolled-back one never is', async () => {
    const tabs = [await TestWsClient.connect(url, { cookie: vendor.cookie }), await TestWsClient.connect(url, { cookie: vendor.cookie })];
    clients.push(...tabs);

    await t.database
      .transaction(async (unit) => {
        await realtime.notify(unit, { userId: vendor.id, type: 'order.paid', payload: { orderId: 'rolled-back' } });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const created = await t.database.transaction((unit) =>
      realtime.notify(unit, { userId: vendor.id, type: 'order.paid', payload: { orderId: 'o-1', totalCents: 1299 } }),
    );

    for (const tab of tabs) {
      // The first notification to arrive is the committed one: the rolled-back one would have come first.
      const frame = await tab.next('notification');
      expect(frame.notification).toEqual({
        id: created.id,
        type: 'order.paid',
        payload: { orderId: 'o-1', totalCents: 1299 },
        createdAt: expect.any(String),
        readAt: null,
      });
      expect(tab.pending()).toEqual([]);
    }
    const list = await t.request.get('/api/notifications').set('Cookie', vendor.cookie).expect(200);
    expect(list.body.notifications.map((n: { id: string }) => n.id)).toEqual([created.id]);
  });

  it('lists the caller’s notifications newest first with a cursor; marking read is for the owner only', async () => {
    const owner = await registerUser(t.request);
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const n = await t.database.transaction((unit) => realtime.notify(unit, { userId: owner.id, type: 'test', payload: { i } }));
      ids.push(n.id);
    }
    const first = await t.request.get('/api/notifications?limit=2').set('Cookie', owner.cookie).expect(200);
    expect(first.body.notifications.map((n: { payload: { i: number } }) => n.payload.i)).toEqual([3, 2]);
    const second = await t.request
      .get(`/api/notifications?limit=2&cursor=${first.body.nextCursor}`)
      .set('Cookie', owner.cookie)
      .expect(200);
    expect(second.body).toEqual({ notifications: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    const foreign = await t.request.post(`/api/notifications/${ids[0]}/read`).set('Cookie', other.cookie).expect(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect((await t.request.get('/api/notifications').set('Cookie', other.cookie).expect(200)).body.notifications).toEqual([]);

    const read = await t.request.post(`/api/notifications/${ids[0]}/read`).set('Cookie', owner.cookie).expect(200);
    expect(read.body.notification).toMatchObject({ id: ids[0], readAt: expect.any(String) });
    const again = await t.request.post(`/api/notifications/${ids[0]}/read`).set('Cookie', owner.cookie).expect(200);
    expect(again.body.notification.readAt).toBe(read.body.notification.readAt);

    await t.request.post('/api/notifications/not-a-uuid/read').set('Cookie', owner.cookie).expect(400);
    await t.request.get('/api/notifications').expect(401);
  });
});
