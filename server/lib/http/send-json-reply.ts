import type { Request, Response } from 'express';
import fresh from 'fresh';
import { chooseCoding, compress, etagFor, etagOf, MIN_COMPRESSED_BYTES, writeBytes } from './stored-body';

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
  const etag = etagFor(etagOf(identity), coding);
  if (compressible) res.vary('Accept-Encoding');
  res.setHeader('ETag', etag);
  // Checked before compressing: a revalidation costs no zlib work.
  if (fresh(req.headers, { etag })) {
    res.status(304).end();
    return;
  }
  writeBytes(res, coding === 'identity' ? identity : await compress(identity, coding), coding);
}
