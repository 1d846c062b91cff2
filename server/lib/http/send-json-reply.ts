import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Request, Response } from 'express';
import fresh from 'fresh';
import { chooseCoding } from './stored-body';

/*
 * How a route's JSON reply goes out. A 200 to a GET is a cacheable read: it carries a strong
 * ETag and answers If-None-Match with a 304 and no body. The ETag names the bytes sent, so a
 * compressed body is compressed here (the coding is part of its ETag, as in stored-body.ts) and
 * the compression middleware, seeing Content-Encoding set, passes it through untouched.
 * Everything else is sent with res.json, which the compression middleware compresses as usual.
 */

export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

// Below about one packet a compressed body saves the client nothing it would notice (the compression middleware's threshold too).
const MIN_COMPRESSED_BYTES = 1024;
// Brotli's default quality (11) costs tens of ms on a large page; 5 is about gzip's speed and still smaller.
const BROTLI_QUALITY = 5;
const compressGzip = promisify(zlib.gzip);
const compressBrotli = promisify(zlib.brotliCompress);

export async function sendJsonReply(req: Request, res: Response, reply: JsonReply): Promise<void> {
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  if (reply.body === undefined) {
    res.end();
    return;
  }
  if (!((req.method === 'GET' || req.method === 'HEAD') && reply.status === 200)) {
    res.json(reply.body);
    return;
  }
  const identity = Buffer.from(JSON.stringify(reply.body));
  const compressible = identity.length >= MIN_COMPRESSED_BYTES;
  const coding = compressible ? chooseCoding(req.headers['accept-encoding'], { br: true, gzip: true }) : 'identity';
  const hash = createHash('sha256').update(identity).digest('base64url');
  const etag = coding === 'identity' ? `"${hash}"` : `"${hash}-${coding}"`;
  if (compressible) res.vary('Accept-Encoding');
  res.setHeader('ETag', etag);
  if (fresh(req.headers, { etag })) {
    res.status(304).end();
    return;
  }
  let bytes = identity;
  if (coding === 'br')
    bytes = await compressBrotli(identity, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length },
    });
  else if (coding === 'gzip') bytes = await compressGzip(identity);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (coding !== 'identity') res.setHeader('Content-Encoding', coding);
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
