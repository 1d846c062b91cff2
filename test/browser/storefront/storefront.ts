import createClient from 'openapi-fetch';
import type { paths } from './api-types';

/*
 * A minimal storefront on another origin than the API, using the client generated from the
 * OpenAPI document (api-types.d.ts) through openapi-fetch with the session cookie
 * (`credentials: 'include'`). The browser test calls `window.storefront` step by step; each step
 * also shows its result on the page, as a shop would.
 */

type Notification = { id: string; type: string; payload: Record<string, unknown> };

const apiOrigin = document.body.dataset.api ?? '';
const api = createClient<paths>({ baseUrl: apiOrigin, credentials: 'include' });

function show(listId: string, lines: string[]): void {
  const list = document.getElementById(listId);
  if (!list) return;
  list.replaceChildren(
    ...lines.map((line) => {
      const item = document.createElement('li');
      item.textContent = line;
      return item;
    }),
  );
}

function setWho(text: string): void {
  const who = document.getElementById('who');
  if (who) who.textContent = text;
}

const received: Notification[] = [];
let taken = 0;
const waiting: Array<(n: Notification) => void> = [];

const storefront = {
  async register(email: string, password: string, name: string) {
    const { data, response } = await api.POST('/api/auth/register', { body: { email, password, name } });
    if (data) setWho(`Signed in as ${data.user.name}`);
    return { status: response.status, userId: data?.user.id };
  },

  async logout() {
    const { response } = await api.POST('/api/auth/logout');
    setWho('Signed out');
    return { status: response.status };
  },

  async login(email: string, password: string) {
    const { data, response } = await api.POST('/api/auth/login', { body: { email, password } });
    if (data) setWho(`Signed in as ${data.user.name}`);
    return { status: response.status };
  },

  async me() {
    const { data, response } = await api.GET('/api/auth/me');
    return { status: response.status, email: data?.user.email };
  },

  async products(q?: string) {
    const { data, response } = await api.GET('/api/products', { params: { query: q ? { q } : {} } });
    const products = data?.items ?? [];
    show(
      'products',
      products.map((p) => `${p.title}: ${(p.priceCents / 100).toFixed(2)}`),
    );
    return { status: response.status, titles: products.map((p) => p.title), ids: products.map((p) => p.id) };
  },

  async placeOrder(productId: string, quantity: number) {
    const { data, error, response } = await api.POST('/api/orders', {
      body: { items: [{ productId, quantity }], paymentMethod: 'card' },
    });
    return { status: response.status, order: data?.order, error };
  },

  /** Opens the realtime socket (the session cookie authenticates the upgrade); resolves once open. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${apiOrigin.replace(/^http/, 'ws')}/ws`);
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error('WebSocket failed'));
      socket.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as { type: string; notification?: Notification };
        if (frame.type !== 'notification' || !frame.notification) return;
        received.push(frame.notification);
        show(
          'notifications',
          received.map((n) => `${n.type} ${JSON.stringify(n.payload)}`),
        );
        const waiter = waiting.shift();
        if (waiter) {
          taken++;
          waiter(frame.notification);
        }
      };
    });
  },

  /** The next notification pushed over the socket (or the first one not yet taken). */
  nextNotification(): Promise<Notification> {
    const ready = received[taken];
    if (ready) {
      taken++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => waiting.push(resolve));
  },
};

(window as unknown as { storefront: typeof storefront }).storefront = storefront;
