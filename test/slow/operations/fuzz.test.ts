import http from 'node:http';
import type { z } from 'zod';
import type { Route } from '../../../server/lib/http/define-route';
import { openApiPath } from '../../../server/lib/http/route-responses';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore, type Vendor } from '../../support/catalogue';
import { ManualClock } from '../../support/clock';
import { coinGeckoPrices, type FakeProvider, startFakeProvider } from '../../support/fake-crypto-providers';
import { type FakeStripe, startFakeStripe } from '../../support/fake-stripe';
import { type FakeBtcpay, startFakeBtcpay } from '../../support/fake-btcpay';

/*
 * Hostile input against every declared route (the same list the app registers and documents):
 * wrong types, huge strings, prototype-pollution keys, NaN/Infinity, negative and fractional
 * numbers, SQL and script text, truncated JSON, wrong content types. Nothing may answer 5xx,
 * and the server must still be healthy afterwards.
 */
const HUGE = 'x'.repeat(200_000);
const hostileValues: unknown[] = [
  null,
  true,
  -1,
  1.5,
  -0.0001,
  1e308,
  Number.MAX_SAFE_INTEGER * 4,
  '',
  HUGE,
  "' OR 1=1; DROP TABLE users; --",
  '<script>alert(1)</script>',
  '\u0000nul',
  '../../etc/passwd',
  '%2e%2e%2f',
  [],
  [1, 'a', null],
  {},
  { $gt: '' },
  '00000000-0000-4000-8000-000000000000',
];
const hostileRawBodies = [
  '{"a":',
  '{"a": NaN}',
  '{"a": Infinity}',
  '{"a": 1e999999}',
  '[',
  '"',
  'null',
  '{"__proto__": {"admin": true}}',
  '{"constructor": {"prototype": {"polluted": 1}}}',
];
const hostileParams = [
  'not-a-uuid',
  "1'; DROP TABLE products; --",
  '%00',
  'x'.repeat(5_000),
  '..%2F..%2Fetc',
  '00000000-0000-0000-0000-000000000000',
  '%E0%A4%A',
];

function fieldsOf(schema: z.ZodType | undefined): string[] {
  const shape = schema as unknown as { shape?: Record<string, unknown>; def?: { in?: { shape?: Record<string, unknown> } } } | undefined;
  return Object.keys(shape?.shape ?? shape?.def?.in?.shape ?? {});
}

let t: TestApp;
let vendor: Vendor;
let stripe: FakeStripe;
let gecko: FakeProvider;
let btcpay: FakeBtcpay;
let productId: string;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  stripe = await startFakeStripe();
  gecko = await startFakeProvider(clock, coinGeckoPrices());
  btcpay = await startFakeBtcpay();
  t = await startTestApp({
    deps: { clock },
    env: {
      STRIPE_SECRET_KEY: 'sk_test_fuzz',
      STRIPE_WEBHOOK_SECRET: 'whsec_fuzz',
      STRIPE_API_URL: stripe.url,
      COINGECKO_API_URL: `${gecko.url}/api/v3`,
      ...btcpay.env,
    },
  });
  vendor = await openStore(t.request);
  productId = (await listProduct(t.request, vendor)).id;
}, 30_000);
afterAll(async () => {
  await t.close();
  await stripe.close();
  await gecko.close();
  await btcpay.close();
});

const fill = (path: string, id: string) => path.replace(/\{\w+\}/g, encodeURIComponent(id).replace(/%25/g, '%'));

async function fuzz(route: Route): Promise<string[]> {
  const failures: string[] = [];
  const send = async (label: string, request: () => Promise<{ status: number; text: string }>) => {
    const res = await request();
    if (res.status >= 500) failures.push(`${route.method.toUpperCase()} ${route.path}: ${label} → ${res.status} ${res.text.slice(0, 200)}`);
  };
  const path = openApiPath(route.path);
  const call = (target: string) => t.request[route.method](target).set('Cookie', vendor.cookie);
  const basePath = fill(path, productId);

  for (const param of path.includes('{') ? hostileParams : []) {
    await send(`param ${param.slice(0, 30)}`, () => call(path.replace(/\{\w+\}/g, param)));
  }
  const queryFields = [...fieldsOf(route.query), 'unexpected'];
  for (const field of queryFields) {
    for (const value of ["'; DROP TABLE users; --", HUGE.slice(0, 10_000), '-1', '1.5', 'NaN', 'Infinity', '%00', '']) {
      await send(`query ${field}=${value.slice(0, 20)}`, () => call(`${basePath}?${field}=${encodeURIComponent(value)}`));
    }
    await send(`query ${field}[]`, () => call(`${basePath}?${field}[]=a&${field}[]=b`));
    await send(`query ${field}[__proto__]`, () => call(`${basePath}?${field}[__proto__][admin]=1`));
  }
  if (route.method !== 'get') {
    for (const raw of hostileRawBodies) await send(`raw ${raw}`, () => call(basePath).set('Content-Type', 'application/json').send(raw));
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      await send(`content-type ${type}`, () => call(basePath).set('Content-Type', type).send('a=1&b=<x/>'));
    }
    const fields = [...fieldsOf(route.body), '__proto__', 'constructor'];
    for (const field of fields) {
      for (const value of hostileValues) {
        await send(`body ${field}=${JSON.stringify(value)?.slice(0, 30)}`, () => call(basePath).send({ [field]: value }));
      }
    }
    await send('body array', () => call(basePath).send([{}, []]));
  }
  return failures;
}

// One test over the app's own route list (it exists only once the app is built, after jest collects tests).
it('no declared route answers 5xx to hostile input', async () => {
  expect(t.app.routes.length).toBeGreaterThan(25);
  const failures: string[] = [];
  // Sign-out last: it ends the vendor's session, and every route after it would only answer 401.
  const routes = [...t.app.routes].sort((a, b) => Number(a.operationId === 'logout') - Number(b.operationId === 'logout'));
  for (const route of routes) failures.push(...(await fuzz(route)));
  expect(failures).toEqual([]);
}, 600_000);

// Object URLs are read still percent-encoded (objects.routes.ts): every case and encoding trick on
// the prefix and the path, sent raw (no client-side normalisation), GET and HEAD, signed in or not.
const objectPrefixes = ['public', 'private', 'PUBLIC', 'Private', 'pUbLiC', '%70ublic', 'public%2F', 'public%00', 'public.', '..'];
const objectTails = [
  'x.png',
  '%2e%2e/x',
  '%2E%2E%2Fx',
  '.%2e/.%2E/x',
  '%252e%252e%252fx',
  '%25%32%65',
  '..%2f..%2fsecret',
  '..%5c..%5csecret',
  '%c0%ae%c0%ae/x',
  '%c0%af',
  '%e0%80%ae',
  '%00',
  'x%00.png',
  '%01%7f',
  'x'.repeat(2_000),
  `${'a/'.repeat(600)}x`,
  '%',
  '%zz',
  '%E0%A4%A',
  '/x',
  '..',
  'x/..',
  '%F0%9F%98%80.png',
  '%EF%BF%BF',
  '%ED%A0%80',
  'x?y=%00',
  'x#frag',
];

function rawRequest(base: string, method: string, target: string, cookie?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${target}`, { method, headers: cookie ? { Cookie: cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

it('no object URL variant (case, encoding, traversal, NUL, overlong) answers 5xx', async () => {
  const base = await t.listen();
  const failures: string[] = [];
  for (const prefix of objectPrefixes) {
    for (const tail of objectTails) {
      for (const method of ['GET', 'HEAD']) {
        for (const cookie of [undefined, vendor.cookie]) {
          const target = `/objects/${prefix}/${tail}`;
          const status = await rawRequest(base, method, target, cookie);
          if (status >= 500) failures.push(`${method} ${target.slice(0, 80)}${cookie ? ' (signed in)' : ''} → ${status}`);
        }
      }
    }
  }
  expect(failures).toEqual([]);
}, 120_000);

it('after the fuzzing the server is healthy and nothing was polluted', async () => {
  await t.request.get('/api/health').expect(200);
  expect(({} as Record<string, unknown>).admin).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const users = await t.database.pool.query('SELECT count(*)::int AS n FROM users');
  expect(users.rows[0].n).toBeGreaterThan(0);
});
