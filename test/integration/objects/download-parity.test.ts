import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { type FakeGcs, startFakeGcs } from '../../support/fake-gcs';
import { binary, pngBytes, registerVendor, upload } from '../../support/objects';

/*
 * Acceptance: the same request headers against our download route and against express.static
 * serving identical bytes give the same status, Content-Range, Content-Length and body, for both
 * storage drivers. ETags and dates differ between the servers (ours is a strong content hash, and
 * our Last-Modified is the upload time), so validator cases use each server's own values.
 */

interface Validators {
  etag: string;
  lastModified: string;
}

interface Case {
  name: string;
  method?: 'GET' | 'HEAD';
  headers: (v: Validators) => Record<string, string>;
}

const LONG_AGO = 'Thu, 01 Jan 1970 00:00:00 GMT';
const FAR_FUTURE = 'Fri, 01 Jan 2100 00:00:00 GMT';

const cases: Case[] = [
  { name: 'plain GET', headers: () => ({}) },
  { name: 'HEAD', method: 'HEAD', headers: () => ({}) },
  { name: 'bytes=0-0', headers: () => ({ Range: 'bytes=0-0' }) },
  { name: 'suffix bytes=-500', headers: () => ({ Range: 'bytes=-500' }) },
  { name: 'open bytes=100-', headers: () => ({ Range: 'bytes=100-' }) },
  { name: 'end past the size is clamped', headers: () => ({ Range: 'bytes=19000-999999' }) },
  { name: 'several ranges → full 200', headers: () => ({ Range: 'bytes=0-1,5-6' }) },
  { name: 'overlapping ranges are combined', headers: () => ({ Range: 'bytes=0-5,3-10' }) },
  { name: 'inverted range bytes=5-1', headers: () => ({ Range: 'bytes=5-1' }) },
  { name: 'unsatisfiable bytes=999999-', headers: () => ({ Range: 'bytes=999999-' }) },
  { name: 'suffix of zero bytes=-0', headers: () => ({ Range: 'bytes=-0' }) },
  { name: 'other unit items=0-5 is ignored', headers: () => ({ Range: 'items=0-5' }) },
  { name: 'malformed bytes=abc', headers: () => ({ Range: 'bytes=abc' }) },
  { name: 'HEAD with a range', method: 'HEAD', headers: () => ({ Range: 'bytes=0-9' }) },
  { name: 'If-None-Match own ETag → 304', headers: (v) => ({ 'If-None-Match': v.etag }) },
  { name: 'If-None-Match other ETag', headers: () => ({ 'If-None-Match': '"something-else"' }) },
  { name: 'If-None-Match *', headers: () => ({ 'If-None-Match': '*' }) },
  { name: 'If-None-Match own ETag with a range → 304', headers: (v) => ({ 'If-None-Match': v.etag, Range: 'bytes=0-9' }) },
  { name: 'If-Modified-Since own Last-Modified → 304', headers: (v) => ({ 'If-Modified-Since': v.lastModified }) },
  { name: 'If-Modified-Since long ago', headers: () => ({ 'If-Modified-Since': LONG_AGO }) },
  {
    name: 'If-None-Match mismatch beats If-Modified-Since',
    headers: (v) => ({ 'If-None-Match': '"x"', 'If-Modified-Since': v.lastModified }),
  },
  { name: 'If-Match own ETag', headers: (v) => ({ 'If-Match': v.etag }) },
  { name: 'If-Match mismatch → 412', headers: () => ({ 'If-Match': '"something-else"' }) },
  { name: 'If-Match *', headers: () => ({ 'If-Match': '*' }) },
  { name: 'If-Unmodified-Since in the past → 412', headers: () => ({ 'If-Unmodified-Since': LONG_AGO }) },
  { name: 'If-Unmodified-Since in the future', headers: () => ({ 'If-Unmodified-Since': FAR_FUTURE }) },
  { name: 'If-Range own ETag', headers: (v) => ({ 'If-Range': v.etag, Range: 'bytes=0-9' }) },
  { name: 'If-Range other ETag → full 200', headers: () => ({ 'If-Range': '"stale"', Range: 'bytes=0-9' }) },
  { name: 'If-Range own date', headers: (v) => ({ 'If-Range': v.lastModified, Range: 'bytes=10-19' }) },
  { name: 'If-Range old date → full 200', headers: () => ({ 'If-Range': LONG_AGO, Range: 'bytes=10-19' }) },
  { name: 'If-Range with an unsatisfiable range', headers: (v) => ({ 'If-Range': v.etag, Range: 'bytes=999999-' }) },
];

// superagent skips the parser for HEAD (no body at all).
const bodyOf = (res: supertest.Response): Buffer => (Buffer.isBuffer(res.body) ? res.body : Buffer.alloc(0));

const SIZE = 20_000;
const bytes = pngBytes(SIZE);

// The reference: express.static over a file with the same bytes.
const staticDir = mkdtempSync(path.join(os.tmpdir(), 'mp-static-'));
writeFileSync(path.join(staticDir, 'asset.png'), bytes);
const reference = supertest(express().use(express.static(staticDir)));

describe.each(['local', 'gcs'] as const)('downloads with the %s driver match express.static', (driver) => {
  let t: TestApp;
  let gcs: FakeGcs | undefined;
  let url: string;
  let ours: Validators;
  let theirs: Validators;

  beforeAll(async () => {
    if (driver === 'gcs') gcs = await startFakeGcs();
    t = await startTestApp({
      env: { OBJECT_STORAGE_DRIVER: driver, ...(gcs ? { GCS_API_ENDPOINT: gcs.url, GCS_PROJECT_ID: 'test-project' } : {}) },
    });
    const vendor = await registerVendor(t);
    const res = await upload(t, vendor, bytes, { visibility: 'public' }).expect(201);
    url = res.body.url;
    const [a, b] = await Promise.all([t.request.head(url).expect(200), reference.head('/asset.png').expect(200)]);
    ours = { etag: a.headers.etag!, lastModified: a.headers['last-modified']! };
    theirs = { etag: b.headers.etag!, lastModified: b.headers['last-modified']! };
  });
  afterAll(async () => {
    await t?.close();
    await gcs?.close();
  });

  it.each(cases)('$name', async ({ method = 'GET', headers }) => {
    const send = (agent: supertest.Agent | ReturnType<typeof supertest>, target: string, v: Validators) => {
      const req = method === 'HEAD' ? agent.head(target) : agent.get(target);
      return req.set(headers(v)).buffer(true).parse(binary);
    };
    const [mine, ref] = await Promise.all([send(t.request, url, ours), send(reference, '/asset.png', theirs)]);
    expect({ status: mine.status, contentRange: mine.headers['content-range'] }).toEqual({
      status: ref.status,
      contentRange: ref.headers['content-range'],
    });
    if (ref.status === 200 || ref.status === 206 || ref.status === 304) {
      expect(mine.headers['content-length']).toBe(ref.headers['content-length']);
      expect(bodyOf(mine).equals(bodyOf(ref))).toBe(true);
      expect(mine.headers['accept-ranges']).toBe('bytes');
      expect(mine.headers.etag).toBe(ours.etag);
      expect(mine.headers['last-modified']).toBe(ours.lastModified);
      expect(mine.headers.vary).toBe('Accept-Encoding');
    } else {
      expect(mine.body.toString()).toContain('"requestId"');
    }
  });

  it('serves a strong ETag that is the MD5 of the bytes', async () => {
    const { createHash } = await import('node:crypto');
    expect(ours.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
  });

  if (driver === 'gcs') {
    it('pushes the byte range down to GCS instead of reading the whole object', async () => {
      const media = gcs!.nextMedia();
      const res = await t.request.get(url).set('Range', 'bytes=100-199').buffer(true).parse(binary).expect(206);
      expect((res.body as Buffer).equals(bytes.subarray(100, 200))).toBe(true);
      expect((await media).range).toBe('bytes=100-199');
    });
  }
});
