import type supertest from 'supertest';
import { sidCookie } from './session-cookie';
import { registerUser, type SignedInUser, verifyEmail } from './users';

export interface Vendor extends SignedInUser {
  vendorId: string;
}

/** Registers a user, verifies their address and opens a store through the API; the cookie is the post-upgrade session. */
export async function openStore(request: ReturnType<typeof supertest>, storeName = 'Test Store', cookieName = 'sid'): Promise<Vendor> {
  const user = await registerUser(request, { cookieName });
  await verifyEmail(request, user);
  const res = await request.post('/api/vendors').set('Cookie', user.cookie).send({ storeName, description: 'A store' }).expect(201);
  return { ...user, cookie: sidCookie(res.headers['set-cookie'], cookieName), vendorId: res.body.vendor.id };
}

let counter = 0;
/** Lists a product as `vendor`; fields default to a valid product. */
export async function listProduct(
  request: ReturnType<typeof supertest>,
  vendor: Vendor,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; [key: string]: unknown }> {
  counter++;
  const res = await request
    .post('/api/products')
    .set('Cookie', vendor.cookie)
    .send({ title: `Product ${counter}`, priceCents: 1_000 + counter, stock: 5, ...fields })
    .expect(201);
  return res.body.product;
}
