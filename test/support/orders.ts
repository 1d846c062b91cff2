import type supertest from 'supertest';
import type { OrderView } from '../../shared/contracts';
import type { SignedInUser } from './users';

/** Places a card order as `buyer` through the API (expects 201) and returns the order. */
export async function placeCardOrder(
  request: ReturnType<typeof supertest>,
  buyer: Pick<SignedInUser, 'cookie'>,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
): Promise<OrderView> {
  const res = await request.post('/api/orders').set('Cookie', buyer.cookie).send({ items, paymentMethod: 'card' }).expect(201);
  return res.body.order;
}

/** Places a crypto order as `buyer` through the API (expects 201: BTCPay configured) and returns the order. */
export async function placeCryptoOrder(
  request: ReturnType<typeof supertest>,
  buyer: Pick<SignedInUser, 'cookie'>,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
  cryptoCurrency = 'BTC',
): Promise<OrderView> {
  const res = await request
    .post('/api/orders')
    .set('Cookie', buyer.cookie)
    .send({ items, paymentMethod: 'crypto', cryptoCurrency })
    .expect(201);
  return res.body.order;
}
