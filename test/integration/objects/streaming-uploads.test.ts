import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { waitForLog } from '../../support/logger';
import { startTestApp, type TestApp } from '../../support/app';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { abortUploadMidway, pngHeader } from '../../support/objects';
import { registerUser } from '../../support/users';

/*
 * A 50 MiB upload is streamed end to end: the request body is produced by a generator (the test
 * never holds 50 MiB either) and the server's memory growth, sampled while the upload runs,
 * stays far below the file size.
 */

const MiB = 1024 * 1024;
const SIZE = 50 * MiB;
const BOUNDARY = 'large-upload-boundary';

// A full GC on demand without starting node with --expose-gc.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await startTestApp({ env: { OBJECT_STORAGE_DRIVER: 'local' } });
  base = await t.listen();
});
afterAll(() => t.close());

/** The multipart body of a SIZE-byte PNG-looking file, chunk by chunk, hashing the file as it goes. */
function* multipartBody(md5: ReturnType<typeof createHash>): Generator<Buffer> {
  yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
  const header = pngHeader(SIZE);
  md5.update(header);
  yield header;
  const block = Buffer.alloc(256 * 1024, 0x5a);
  let remaining = SIZE - header.length;
  while (remaining > 0) {
    const chunk = remaining >= block.length ? block : block.subarray(0, remaining);
    md5.update(chunk);
    remaining -= chunk.length;
    yield chunk;
  }
  yield Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
}

function send(cookie: string, body: Readable, length: number): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/uploads?visibility=private`,
      {
        method: 'POST',
        headers: { Cookie: cookie, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    body.pipe(req);
  });
}

it('when a 50 MiB file is uploaded, then it is stored intact while memory grows far less than 50 MiB', async () => {
  const user = await registerUser(t.request);
  const lengthOf = () => {
    let n = 0;
    for (const chunk of multipartBody(createHash('md5'))) n += chunk.length;
    return n;
  };
  const md5 = createHash('md5');
  const body = Readable.from(multipartBody(md5), { objectMode: false });

  collectGarbage();
  const before = process.memoryUsage();
  let samples = 0;
  const peak = { rss: before.rss, arrayBuffers: before.arrayBuffers };
  // Sampling is measurement, not synchronisation: the upload's own response ends the test.
  const sampler = setInterval(() => {
    let now = process.memoryUsage();
    // Freed chunks waiting for a GC are not memory the upload holds on to: when usage looks high,
    // collect and measure again (only then, so full GCs in a large jest heap stay rare).
    if (now.arrayBuffers - before.arrayBuffers > 8 * MiB || now.rss - before.rss > 16 * MiB) {
      collectGarbage();
      now = process.memoryUsage();
    }
    peak.rss = Math.max(peak.rss, now.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    samples++;
  }, 20);
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send(user.cookie, body, lengthOf());
  } finally {
    clearInterval(sampler);
  }

  expect(res.status).toBe(201);
  expect(res.json).toMatchObject({ contentType: 'image/png', size: SIZE });
  const head = await t.request.head(String(res.json.url)).set('Cookie', user.cookie).expect(200);
  expect(head.headers['content-length']).toBe(String(SIZE));
  expect(head.headers.etag).toBe(`"${md5.digest('hex')}"`);

  expect(samples).toBeGreaterThanOrEqual(2);
  const growth = { rss: peak.rss - before.rss, arrayBuffers: peak.arrayBuffers - before.arrayBuffers };
  expect(growth.arrayBuffers).toBeLessThan(12 * MiB);
  expect(growth.rss).toBeLessThan(25 * MiB);
});

it('when the client drops the connection mid-upload, then nothing is left in storage', async () => {
  const user = await registerUser(t.request);
  const files = () => {
    const root = path.join(t.config.DATA_DIR, 'objects');
    if (!existsSync(root)) return [];
    return (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(path.join(root, f)).isFile());
  };
  const before = files();
  const refused = waitForLog(t.logs, /upload not stored/, { onlyNew: true });
  await abortUploadMidway(base, user.cookie, 4 * MiB, 512 * 1024);
  expect(String((await refused).message)).toContain('request_aborted');
  expect(files()).toEqual(before);
});
