import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startTestApp, type TestApp } from '../../support/app';
import { pngBytes, registerVendor, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

/*
 * Path traversal: secrets are planted next to and above the bucket directories; no encoding of
 * `..`, separators, absolute paths or NUL may reach them, another bucket, or a 500.
 */

const SECRET = 'TOP-SECRET-CONTENT';
let t: TestApp;
let base: string;
let privateName: string;

/** A raw request: the path goes on the wire exactly as written (no client-side normalisation). */
function rawGet(target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${target}`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  t = await startTestApp({ env: { OBJECT_STORAGE_DRIVER: 'local' } });
  base = await t.listen();
  const objectsRoot = path.join(t.config.DATA_DIR, 'objects');
  mkdirSync(path.join(objectsRoot, 'marketplace-public'), { recursive: true });
  writeFileSync(path.join(t.config.DATA_DIR, 'secret.txt'), SECRET);
  writeFileSync(path.join(objectsRoot, 'secret.txt'), SECRET);
  writeFileSync(path.join(objectsRoot, 'marketplace-public', 'secret.txt'), SECRET);
  const owner = await registerUser(t.request);
  const res = await upload(t, owner, pngBytes(500)).expect(201);
  privateName = res.body.key.slice('private/'.length);
});
afterAll(() => t.close());

const attempts: Array<[string, (name: string) => string]> = [
  ['plain ..', () => '/objects/public/../secret.txt'],
  ['.. to DATA_DIR', () => '/objects/public/../../../secret.txt'],
  ['encoded %2e%2e', () => '/objects/public/%2e%2e/secret.txt'],
  ['upper-case %2E%2E', () => '/objects/public/%2E%2E/%2E%2E/secret.txt'],
  ['mixed .%2e', () => '/objects/public/.%2e/.%2e/secret.txt'],
  ['encoded slash ..%2f', () => '/objects/public/..%2f..%2fsecret.txt'],
  ['encoded backslash ..%5c', () => '/objects/public/..%5c..%5csecret.txt'],
  ['raw backslash', () => '/objects/public/..\\..\\secret.txt'],
  ['absolute via empty segment', () => '/objects/public//etc/passwd'],
  ['absolute via encoded slash', () => '/objects/public/%2fetc%2fpasswd'],
  ['NUL byte', () => '/objects/public/secret.txt%00.png'],
  ['overlong UTF-8 slash', () => '/objects/public/..%c0%af..%c0%afsecret.txt'],
  ['double-encoded dots', () => '/objects/public/%252e%252e/%252e%252e/secret.txt'],
  ['another bucket via ..', (name) => `/objects/public/../../marketplace-private/private/${name}`],
  ['another bucket via encoded slashes', (name) => `/objects/public/..%2f..%2fmarketplace-private%2fprivate%2f${name}`],
  ['private prefix escape', () => '/objects/private/%2e%2e/%2e%2e/secret.txt'],
  ['malformed escape', () => '/objects/public/%zz/secret.txt'],
];

describe('object paths', () => {
  it.each(attempts)('when a path uses %s, then it is a 400 or 404 in the error shape and never the file', async (_name, target) => {
    const res = await rawGet(target(privateName));
    expect([400, 404]).toContain(res.status);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain('PNG');
    expect(JSON.parse(res.body).error.code).toMatch(/^(invalid_object_path|not_found)$/);
  });

  it('a dotted name that is not a traversal is simply looked up (404 here)', async () => {
    const res = await rawGet('/objects/public/a..b/..c.png');
    expect(res.status).toBe(404);
  });
});

describe('prefix case and the download rate limit', () => {
  it.each(['PUBLIC', 'Public', 'pUbLiC'])(
    'when the public prefix is written %s, then it is a clean 404, never the object',
    async (prefix) => {
      const vendor = await registerVendor(t);
      const { body } = await upload(t, vendor, pngBytes(300), { visibility: 'public' }).expect(201);
      await t.request.get(body.url).expect(200);
      for (const target of [body.url.replace('/public/', `/${prefix}/`), body.url.replace('/objects/', '/OBJECTS/')]) {
        const res = await rawGet(target);
        expect(res.status).toBe(404);
        expect(JSON.parse(res.body).error.code).toBe('not_found');
      }
    },
  );

  it('when one IP downloads more than RATE_LIMIT_DOWNLOADS_PER_MIN times, then it gets 429 with Retry-After', async () => {
    const limited = await startTestApp({ env: { RATE_LIMIT_DOWNLOADS_PER_MIN: '3' } });
    try {
      for (let i = 0; i < 3; i++) await limited.request.get('/objects/public/missing.png').expect(404);
      const res = await limited.request.get('/objects/public/missing.png').expect(429);
      expect(res.body.error.code).toBe('rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await limited.request.get('/objects/private/missing.png').expect(429);
    } finally {
      await limited.close();
    }
  });
});
