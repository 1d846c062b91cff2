import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import type { App } from '../../server/app';
import { buildOpenApiDocument } from '../../server/modules/docs';

/*
 * Test-only plumbing: every response a test app gives is recorded (method, declared route
 * pattern, status, JSON body), so the contract check (contract-check.ts, run after each test
 * file) can hold it against the OpenAPI document the same app serves.
 */

export interface RecordedResponse {
  method: string;
  /** The declared route pattern (`/api/products/:id`), or undefined when no route matched. */
  pattern: string | undefined;
  status: number;
  contentType: string;
  /** The parsed JSON body; undefined for other media types, empty bodies and answers cut short. */
  body: unknown;
  /** Whether the whole answer was written (a client may hang up mid-stream). */
  complete: boolean;
}

const MAX_RECORDED_BODY = 2 * 1024 * 1024;
const recorded: RecordedResponse[] = [];
let document: ReturnType<typeof buildOpenApiDocument> | undefined;
let inFlight = 0;
let onSettled: Array<() => void> = [];

/**
 * Resolves once every response started so far has closed. A streamed download can finish on
 * the server just after the client holds all its bytes, so a test reading the record waits here.
 */
export function responsesSettled(): Promise<void> {
  if (inFlight === 0) return Promise.resolve();
  return new Promise((resolve) => onSettled.push(resolve));
}

export function recordedResponses(): readonly RecordedResponse[] {
  return recorded;
}

/** The document of the apps whose responses were recorded (every app declares the same routes). */
export function recordedDocument(): ReturnType<typeof buildOpenApiDocument> | undefined {
  return document;
}

/** Wraps the app's request listener: the app itself is untouched, its responses are copied. */
export function recordResponses(app: App): RequestListener {
  document ??= buildOpenApiDocument(app.routes, { version: 'test' });
  return (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_RECORDED_BODY) return;
      if (!isJson(res)) return;
      const buffer = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      chunks.push(buffer);
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as ServerResponse['end'];
    // 'close', not 'finish': when the client hangs up the moment it has the last byte of a
    // stream, 'finish' may never come, yet status and headers were sent.
    res.on('close', () => {
      if (res.headersSent) record(req, res, res.writableEnded ? Buffer.concat(chunks) : undefined);
      inFlight--;
      if (inFlight > 0) return;
      const waiters = onSettled;
      onSettled = [];
      for (const resolve of waiters) resolve();
    });
    app.express(req, res);
  };
}

/** The body as the client reads it once it undoes Content-Encoding (cached answers are sent compressed). */
function decoded(res: ServerResponse, bytes: Buffer): Buffer {
  const coding = String(res.getHeader('content-encoding') ?? '').toLowerCase();
  if (coding === 'gzip') return zlib.gunzipSync(bytes);
  if (coding === 'br') return zlib.brotliDecompressSync(bytes);
  return bytes;
}

function record(req: IncomingMessage, res: ServerResponse, bytes: Buffer | undefined): void {
  const text = bytes && bytes.length > 0 && bytes.length <= MAX_RECORDED_BODY ? decoded(res, bytes).toString('utf8') : '';
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  recorded.push({
    method: req.method ?? 'GET',
    pattern: (req as IncomingMessage & { routePattern?: string }).routePattern,
    status: res.statusCode,
    contentType: String(res.getHeader('content-type') ?? ''),
    body,
    complete: bytes !== undefined,
  });
}

function isJson(res: ServerResponse): boolean {
  return /^application\/json\b/i.test(String(res.getHeader('content-type') ?? ''));
}
