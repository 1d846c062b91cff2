import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

/*
 * A local server speaking the Google Cloud Storage JSON API paths that @google-cloud/storage 7
 * uses for our driver, so the real SDK runs over real HTTP in tests:
 *   GET    /storage/v1/b/BUCKET/o/NAME              object resource (404 JSON error when missing)
 *   GET    /storage/v1/b/BUCKET/o/NAME?alt=media    bytes, honouring `Range: bytes=a-b` (206)
 *   POST   /upload/storage/v1/b/BUCKET/o?uploadType=multipart&name=NAME   multipart/related upload
 *   DELETE /storage/v1/b/BUCKET/o/NAME
 */

export interface FakeObject {
  data: Buffer;
  resource: Record<string, unknown>;
}

export interface MediaResponse {
  name: string;
  range?: string;
  /** Bytes handed to the socket. */
  bytesSent: number;
  /** True once the whole body was sent; false when the client closed the connection first. */
  completed?: boolean;
  closed: Promise<void>;
}

export interface FakeGcs {
  url: string;
  objects: Map<string, FakeObject>;
  media: MediaResponse[];
  /** While true, every request is answered 503 (an outage). */
  outage: boolean;
  /** While true, metadata is served but media downloads answer 503. */
  mediaOutage: boolean;
  /**
   * `down`: nothing listens (connections refused); `hang`: every request is read and never
   * answered; `hang-media`: metadata is served, media downloads never answer. Undefined recovers
   * (on the same port) and cuts off what was left hanging.
   */
  setFault(fault: 'down' | 'hang' | 'hang-media' | undefined): Promise<void>;
  /** Puts an object as if uploaded (seeding tests). */
  put(bucket: string, name: string, data: Buffer, options?: { contentType?: string; owner?: string }): FakeObject;
  /** Resolves with the next media download that starts. */
  nextMedia(): Promise<MediaResponse>;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects = new Map<string, FakeObject>();
  const media: MediaResponse[] = [];
  const mediaWaiters: Array<(m: MediaResponse) => void> = [];
  let generation = 1_700_000_000_000_000;

  const put = (bucket: string, name: string, data: Buffer, options: { contentType?: string; owner?: string } = {}) => {
    const crc = new CRC32C();
    crc.update(data);
    const now = new Date().toISOString();
    const gen = String(++generation);
    const object: FakeObject = {
      data,
      resource: {
        kind: 'storage#object',
        id: `${bucket}/${name}/${gen}`,
        name,
        bucket,
        generation: gen,
        metageneration: '1',
        contentType: options.contentType ?? 'application/octet-stream',
        size: String(data.length),
        md5Hash: createHash('md5').update(data).digest('base64'),
        crc32c: crc.toString(),
        etag: `C${gen}EAE=`,
        timeCreated: now,
        updated: now,
        ...(options.owner ? { metadata: { owner: options.owner } } : {}),
      },
    };
    objects.set(`${bucket}/${name}`, object);
    return object;
  };

  const notFound = (res: http.ServerResponse, what: string) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: 404, message: `No such object: ${what}`, errors: [{ reason: 'notFound', message: `No such object: ${what}` }] },
      }),
    );
  };

  let fault: 'down' | 'hang' | 'hang-media' | undefined;
  const server = http.createServer((req, res) => {
    if (fault === 'hang') {
      req.resume();
      return;
    }
    if (fake.outage) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 503, message: 'Service Unavailable' } }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const objectPath = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
    const uploadPath = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);

    if (objectPath && (req.method === 'GET' || req.method === 'DELETE')) {
      const bucket = decodeURIComponent(objectPath[1]!);
      const name = decodeURIComponent(objectPath[2]!);
      const key = `${bucket}/${name}`;
      const object = objects.get(key);
      const wantedGeneration = url.searchParams.get('generation');
      if (!object || (wantedGeneration && wantedGeneration !== object.resource.generation)) return notFound(res, key);
      if (req.method === 'DELETE') {
        objects.delete(key);
        res.writeHead(204).end();
        return;
      }
      if (url.searchParams.get('alt') !== 'media') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(object.resource));
        return;
      }
      return sendMedia(req, res, name, object);
    }

    if (uploadPath && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const bucket = decodeURIComponent(uploadPath[1]!);
        const name = url.searchParams.get('name') ?? '';
        if (url.searchParams.get('uploadType') !== 'multipart' || !name) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 400, message: 'unsupported upload' } }));
          return;
        }
        if (url.searchParams.get('ifGenerationMatch') === '0' && objects.has(`${bucket}/${name}`)) {
          res.writeHead(412, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 412, message: 'Precondition Failed' } }));
          return;
        }
        const [metaPart, dataPart] = parseMultipartRelated(Buffer.concat(chunks), String(req.headers['content-type']));
        const metadata = JSON.parse(metaPart!.body.toString('utf8')) as { contentType?: string; metadata?: { owner?: string } };
        const object = put(bucket, name, dataPart!.body, { contentType: metadata.contentType, owner: metadata.metadata?.owner });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(object.resource));
      });
      return;
    }

    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 404, message: `fake-gcs: no route ${req.method} ${url.pathname}` } }));
  });

  function sendMedia(req: http.IncomingMessage, res: http.ServerResponse, name: string, object: FakeObject) {
    if (fault === 'hang-media') return;
    if (fake.mediaOutage) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 503, message: 'Backend Error' } }));
      return;
    }
    const size = object.data.length;
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    }
    const r = object.resource;
    res.writeHead(range ? 206 : 200, {
      'content-type': String(r.contentType),
      'content-length': String(end - start + 1),
      'x-goog-generation': String(r.generation),
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-hash': `crc32c=${r.crc32c},md5=${r.md5Hash}`,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    let resolveClosed!: () => void;
    const record: MediaResponse = { name, range: req.headers.range, bytesSent: 0, closed: new Promise((r) => (resolveClosed = r)) };
    media.push(record);
    mediaWaiters.shift()?.(record);
    let offset = start;
    // Written in chunks with backpressure, like a real server: a reader that stops reading stalls us.
    const pump = () => {
      while (offset <= end) {
        const chunk = object.data.subarray(offset, Math.min(offset + CHUNK, end + 1));
        offset += chunk.length;
        record.bytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => {
      record.completed = res.writableFinished;
      resolveClosed();
    });
    pump();
  }

  const listen = (at: number) => new Promise<void>((resolve) => server.listen(at, '127.0.0.1', resolve));
  const stop = () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  };
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const fake: FakeGcs = {
    url: `http://127.0.0.1:${port}`,
    outage: false,
    mediaOutage: false,
    async setFault(next) {
      const previous = fault;
      fault = next;
      if (next === 'down' && server.listening) await stop();
      if (next !== 'down' && !server.listening) await listen(port);
      if ((previous === 'hang' || previous === 'hang-media') && next !== previous) server.closeAllConnections();
    },
    objects,
    media,
    put,
    nextMedia: () => new Promise((resolve) => mediaWaiters.push(resolve)),
    async close() {
      if (server.listening) await stop();
    },
  };
  return fake;
}

/** The parts of a multipart/related body (what the SDK sends for `uploadType=multipart`). */
function parseMultipartRelated(body: Buffer, contentType: string): Array<{ headers: string; body: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: string; body: Buffer }> = [];
  let cursor = body.indexOf(delimiter);
  while (cursor !== -1) {
    const partStart = cursor + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    const part = body.subarray(partStart + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    parts.push({ headers: part.subarray(0, headerEnd).toString('utf8'), body: part.subarray(headerEnd + 4) });
    cursor = next;
  }
  return parts;
}
