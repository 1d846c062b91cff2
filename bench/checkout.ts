import { everyRateLimitAt, startBenchApp, testConfig } from './support/app-instance';
import { startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const BUYERS = 40;
const ATTEMPTS = 1_200;
const STOCK = 300;
const ROUND_TRIPS_TARGET = 4;

async function json(
  url: string,
  body: unknown,
  cookie?: string,
): Promise<{ status: number; cookie?: string; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  const sid = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('sid='))
    ?.split(';')[0];
  return { status: res.status, cookie: sid, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** Fires `ATTEMPTS` checkouts from `BUYERS` concurrent clients; `productFor(i)` picks the product. */
async function storm(
  url: string,
  buyers: string[],
  productFor: (i: number) => string,
): Promise<{ seconds: number; created: number; refused: number; other: number }> {
  let next = 0;
  let created = 0;
  let refused = 0;
  let other = 0;
  const started = performance.now();
  await Promise.all(
    buyers.map(async (cookie) => {
      for (;;) {
        const i = next++;
        if (i >= ATTEMPTS) return;
        const res = await json(`${url}/api/orders`, { items: [{ productId: productFor(i), quantity: 1 }], paymentMethod: 'card' }, cookie);
        if (res.status === 201) created++;
        else if (res.status === 409) refused++;
        else other++;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, created, refused, other };
}

/**
 * Checkout under contention: many buyers racing for one product's stock, against the same
 * number of checkouts spread over many products (no lock contention) as the baseline.
 */
export async function runCheckoutBench(): Promise<BenchResult[]> {
  const postgres = await startBenchPostgres();
  try {
    const { url: dbUrl, database } = await postgres.createDatabase('bench_checkout');
    const config = testConfig(dbUrl, {
      ...everyRateLimitAt(100_000_000),
      // Each bench buyer keeps ~30 orders unpaid: the bench measures stock contention, not the per-buyer cap.
      ORDER_MAX_OPEN_UNPAID: '100000',
    });
    const server = await startBenchApp(postgres, config, { poolMax: 20 });
    const seller = await json(`${server.url}/api/auth/register`, {
      email: 'seller@example.com',
      password: 'bench password',
      name: 'Seller',
    });
    // Opening a store needs a verified address: the link's token is read from the mail outbox, as a user would follow it.
    const mailed = await database.pool.query(`SELECT text FROM email_outbox WHERE kind = 'email_verification' AND to_email = $1`, [
      'seller@example.com',
    ]);
    const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(mailed.rows[0].text)?.[1];
    await json(`${server.url}/api/auth/verify-email`, { token });
    const store = await json(`${server.url}/api/vendors`, { storeName: 'Bench' }, seller.cookie);
    const list = async (stock: number) =>
      ((await json(`${server.url}/api/products`, { title: 'Widget', priceCents: 999, stock }, store.cookie)).body.product as { id: string })
        .id;
    const hot = await list(STOCK);
    const spread = await Promise.all(Array.from({ length: ATTEMPTS }, () => list(10)));
    const buyers: string[] = [];
    for (let i = 0; i < BUYERS; i++)
      buyers.push(
        (await json(`${server.url}/api/auth/register`, { email: `b${i}@example.com`, password: 'bench password', name: 'B' })).cookie!,
      );

    // Round trips of one signed-in card checkout (after a first one, so nothing is cold).
    const checkoutOf = async (url: string, productId: string) => {
      const res = await json(`${url}/api/orders`, { items: [{ productId, quantity: 1 }], paymentMethod: 'card' }, buyers[0]);
      if (res.status !== 201) throw new Error(`checkout answered ${res.status}`);
    };
    const counted = await list(10);
    await checkoutOf(server.url, counted);
    const trips = await server.statements.countDuring((url) => checkoutOf(url, counted));
    const roundTrips = server.statements.total(trips.byRequests);

    const baseline = await storm(server.url, buyers, (i) => spread[i]!);
    const contended = await storm(server.url, buyers, () => hot);
    const { rows } = await database.pool.query('SELECT stock FROM products WHERE id = $1', [hot]);
    const sold = (await database.pool.query('SELECT coalesce(sum(quantity),0)::int AS n FROM order_items WHERE product_id = $1', [hot]))
      .rows[0].n as number;
    const oversold = Math.max(0, sold - STOCK) + (rows[0].stock < 0 ? -rows[0].stock : 0);
    await server.close();

    const contendedRate = ATTEMPTS / contended.seconds;
    const baselineRate = ATTEMPTS / baseline.seconds;
    return [
      {
        name: 'database round trips per card checkout',
        value: roundTrips,
        unit: `statements (app ${trips.byRequests.app}, sessions ${trips.byRequests.sessions})`,
        target: `≤ ${ROUND_TRIPS_TARGET}`,
        pass: roundTrips <= ROUND_TRIPS_TARGET,
      },
      {
        name: `checkout attempts/s, ${BUYERS} buyers racing for ${STOCK} units`,
        value: Math.round(contendedRate),
        baseline: Math.round(baselineRate),
        ratio: Number((contendedRate / baselineRate).toFixed(2)),
        unit: 'req/s',
        target: '≥ 0.3× uncontended checkouts',
        pass: contendedRate / baselineRate >= 0.3 && contended.other === 0,
      },
      {
        name: 'orders created vs stock (oversold units)',
        value: oversold,
        baseline: STOCK,
        unit: `units (${contended.created} created, ${contended.refused} × 409)`,
        target: '0 oversold, created = stock',
        pass: oversold === 0 && contended.created === STOCK,
      },
    ];
  } finally {
    await postgres.stop();
  }
}

if (require.main === module) runStandalone(runCheckoutBench);
