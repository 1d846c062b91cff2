import type { RealtimeModule } from '../../../server/modules/realtime';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser } from '../../support/users';
import { TestWsClient } from '../../support/ws-client';

describe('realtime across two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let urlA: string;
  let urlB: string;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ testDatabase: a.testDatabase });
    urlA = await a.listen();
    urlB = await b.listen();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await b.close();
    await a.close();
  });

  it('a message sent by a client on instance A reaches the recipient on instance B (and the sender’s tab on B)', async () => {
    const seller = await registerUser(a.request);
    // Signed in on A; the same session works on B (sessions live in Postgres).
    const buyer = await registerUser(a.request);
    const buyerOnA = await TestWsClient.connect(urlA, { cookie: buyer.cookie });
    const buyerOnB = await TestWsClient.connect(urlB, { cookie: buyer.cookie });
    const sellerOnB = await TestWsClient.connect(urlB, { cookie: seller.cookie });
    clients.push(buyerOnA, buyerOnB, sellerOnB);

    buyerOnA.send({ type: 'message.send', to: seller.id, body: 'Do you ship to Lisbon?' });
    const ack = await buyerOnA.next('message.ack');
    for (const tab of [sellerOnB, buyerOnB, buyerOnA]) {
      expect((await tab.next('message.new')).message).toMatchObject({
        id: ack.messageId,
        from: buyer.id,
        to: seller.id,
        body: 'Do you ship to Lisbon?',
      });
    }

    sellerOnB.send({ type: 'message.send', to: buyer.id, body: 'Yes' });
    expect((await buyerOnA.next('message.new')).message).toMatchObject({ from: seller.id, body: 'Yes' });
  });

  it('a notification committed through instance A is pushed to the user connected to instance B', async () => {
    const vendor = await registerUser(b.request);
    const onB = await TestWsClient.connect(urlB, { cookie: vendor.cookie });
    clients.push(onB);
    const realtimeA = a.app.modules.find((m) => m.name === 'realtime') as RealtimeModule;
    const created = await a.database.transaction((unit) =>
      realtimeA.notify(unit, { userId: vendor.id, type: 'order.paid', payload: { orderId: 'x' } }),
    );
    expect((await onB.next('notification')).notification).toMatchObject({ id: created.id, type: 'order.paid' });
  });
});
