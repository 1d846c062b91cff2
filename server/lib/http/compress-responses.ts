import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';
import { MIN_COMPRESSED_BYTES } from './stored-body';

/*
 * br/gzip for what the app writes as it goes (errors, the OpenAPI document, the docs page,
 * metrics, POST replies). Bodies already encoded pass through untouched (the compression
 * package skips any response with Content-Encoding), and so does any response with an ETag: the
 * catalogue cache's stored variants and the JSON replies send-json-reply.ts compresses itself,
 * whose ETags name the bytes as sent.
 */

// Object downloads are never compressed: their ETag, Content-Length and byte ranges describe
// the stored bytes (a video player seeking with Range must get exactly those), and most are
// media that is compressed already.
const UNCOMPRESSED_PREFIX = '/objects/';

function worthCompressing(req: Request, res: Response): boolean {
  if (req.path.startsWith(UNCOMPRESSED_PREFIX)) return false;
  // A strong ETag names the exact bytes being sent (its sender chose their coding already, e.g.
  // identity for a client that accepts only deflate): re-encoding them would break the validator.
  if (res.hasHeader('ETag')) return false;
  // The default filter: only types `compressible` lists (JSON, text, SVG; not images, video, zip).
  return compression.filter(req, res);
}

export function compressResponses(): RequestHandler {
  // The same threshold as the bytes compressed ahead (stored-body.ts).
  const compress = compression({ threshold: MIN_COMPRESSED_BYTES, filter: worthCompressing });
  /*
   * A request that accepts no coding, or a download, skips the package altogether: it wraps
   * every response it sees (write, end, writeHead hooks) even when it then compresses nothing,
   * ~6 % of a cached catalogue read's CPU (bench/README.md). Such answers go out without
   * `Vary: Accept-Encoding`; a shared cache that keeps one only ever holds identity bytes, which
   * every client accepts.
   */
  return (req, res, next) => {
    if (!req.headers['accept-encoding'] || req.path.startsWith(UNCOMPRESSED_PREFIX)) return next();
    compress(req, res, next);
  };
}
