import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Request, Response } from 'express';
import fresh from 'fresh';

/*
 * A JSON answer serialised once and sent as stored bytes: a cache keeps it, and every hit writes
 * those bytes (or a compressed variant made when it was stored) without touching JSON or zlib.
 */

export type Coding = 'br' | 'gzip';

export interface StoredBody {
  identity: Buffer;
  /** Compressed variants, made once when stored; absent when the body is too small to gain. */
  br?: Buffer;
  gzip?: Buffer;
  /** Strong ETag of the identity bytes; a compressed variant appends its coding (a strong validator names one representation). */
  etag: string;
  /** Bytes held, all variants together (for a cache's memory budget). */
  size: number;
  /** Unset: JSON. */
  contentType?: string;
}

// Below about one packet a compressed body saves the client nothing it would notice.
export const MIN_COMPRESSED_BYTES = 1024;
const compressGzip = promisify(zlib.gzip);
const compressBrotli = promisify(zlib.brotliCompress);
// Brotli's default quality (11) costs tens of ms on a list page; 5 is about gzip's speed and still smaller.
const BROTLI_QUALITY = 5;

/** `identity` in `coding`, compressed on the thread pool (not the event loop). */
export function compress(identity: Buffer, coding: Coding): Promise<Buffer> {
  if (coding === 'gzip') return compressGzip(identity);
  return compressBrotli(identity, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length },
  });
}

/** Strong ETag of identity bytes. */
export function etagOf(identity: Buffer): string {
  return `"${createHash('sha256').update(identity).digest('base64url')}"`;
}

/** The ETag of one coding of the bytes `etag` names: a strong validator names one representation. */
export function etagFor(etag: string, coding: Coding | 'identity'): string {
  return coding === 'identity' ? etag : `${etag.slice(0, -1)}-${coding}"`;
}

/** Writes a 200's body in `coding` (its ETag and Vary already set by the caller). */
export function writeBytes(
  res: Response,
  bytes: Buffer,
  coding: Coding | 'identity',
  contentType = 'application/json; charset=utf-8',
): void {
  res.status(200);
  res.setHeader('Content-Type', contentType);
  if (coding !== 'identity') res.setHeader('Content-Encoding', coding);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

/**
 * Serialises `value` and makes its variants now, once, on the thread pool (not the event loop):
 * hits then never compress, and a cache can budget the real bytes it holds.
 */
export function storeJsonBody(value: unknown): Promise<StoredBody> {
  return storeBytes(Buffer.from(JSON.stringify(value)));
}

/** The same for bytes that are not JSON (a static asset), sent as `contentType`. */
export async function storeBytes(identity: Buffer, contentType?: string): Promise<StoredBody> {
  const etag = etagOf(identity);
  if (identity.length < MIN_COMPRESSED_BYTES) return { identity, etag, size: identity.length, ...(contentType ? { contentType } : {}) };
  const [br, gzip] = await Promise.all([compress(identity, 'br'), compress(identity, 'gzip')]);
  const smaller = (variant: Buffer) => (variant.length < identity.length ? variant : undefined);
  const body: StoredBody = {
    identity,
    etag,
    br: smaller(br),
    gzip: smaller(gzip),
    size: identity.length,
    ...(contentType ? { contentType } : {}),
  };
  body.size += (body.br?.length ?? 0) + (body.gzip?.length ?? 0);
  return body;
}

/** Weight of each coding the client named (`q`, 1 when absent; entries with a malformed `q` are ignored). */
function parseAcceptEncoding(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (!coding) continue;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    if (Number.isFinite(weight)) weights.set(coding, weight);
  }
  return weights;
}

/**
 * The variant to send: the highest `q` the client gives a variant we hold, br before gzip before
 * identity on a tie; `q=0` refuses a coding. Identity not named is acceptable but comes last.
 */
export function chooseCoding(acceptEncoding: string | undefined, body: Partial<Record<Coding, unknown>>): Coding | 'identity' {
  if (!acceptEncoding) return 'identity';
  const weights = parseAcceptEncoding(acceptEncoding);
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  let chosen: Coding | 'identity' = 'identity';
  // Just above 0: any coding the client accepts beats an identity it did not mention.
  let best = weights.get('identity') ?? weights.get('*') ?? Number.MIN_VALUE;
  for (const coding of ['gzip', 'br'] as const) {
    const weight = weightOf(coding);
    if (body[coding] && weight > 0 && weight >= best) {
      chosen = coding;
      best = weight;
    }
  }
  return chosen;
}

/**
 * Answers with the stored bytes: the variant Accept-Encoding picks, its ETag, `Vary:
 * Accept-Encoding` and `headers`; 304 without a body when If-None-Match already holds that variant.
 */
export function sendStoredBody(req: Request, res: Response, body: StoredBody, headers: Record<string, string>): void {
  const coding = chooseCoding(req.headers['accept-encoding'], body);
  const bytes = coding === 'identity' ? body.identity : (body[coding] as Buffer);
  const etag = etagFor(body.etag, coding);
  res.set(headers);
  res.vary('Accept-Encoding');
  res.setHeader('ETag', etag);
  if (fresh(req.headers, { etag })) {
    res.status(304).end();
    return;
  }
  writeBytes(res, bytes, coding, body.contentType);
}
