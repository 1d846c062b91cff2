import type { NextFunction, Request, Response } from 'express';
import { AppError, notFound } from '../../lib/errors';
import { planDownload } from './conditional-get';
import { type StorageDriver, type StoredObject, storageUnavailable } from './storage-driver';

const OBJECT_HEADERS = [
  'Accept-Ranges',
  'Cache-Control',
  'Content-Length',
  'Content-Disposition',
  'Content-Range',
  'Content-Type',
  'Cross-Origin-Resource-Policy',
  'ETag',
  'Last-Modified',
];

// Raster formats a browser only ever draws: shown inline. Everything else (PDF with its scripts,
// video, anything a future upload type or a hand-placed file might be, SVG above all) downloads.
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

/** `inline` for safe raster images, `attachment` (with the object's file name) for everything else. */
export function contentDispositionFor(object: Pick<StoredObject, 'contentType' | 'name'>): string {
  const type = object.contentType.split(';')[0]!.trim().toLowerCase();
  if (INLINE_TYPES.has(type)) return 'inline';
  const fileName = object.name.split('/').pop() ?? 'download';
  // Uploaded names are `<uuid>.<ext>`; anything else is reduced to a safe ASCII name.
  return `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

/**
 * Headers on every object answer, error or not: uploads are served from the API's origin, so a
 * document among them must not run script there (sandbox: a unique origin, no scripts) nor be
 * sniffed into something executable.
 */
export function setObjectSecurityHeaders(res: Response) {
  res.setHeader('Content-Security-Policy', 'sandbox');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

export interface ServeOptions {
  cacheControl: string;
  /** Public objects are meant to be embedded by other origins (storefronts, CDNs). */
  crossOrigin: boolean;
}

/**
 * Answers GET/HEAD for one object the way `send` answers for a file: same headers, same
 * conditional and range decisions (see conditional-get.ts), bytes streamed from the driver with
 * the range pushed down. When the response closes (finished or abandoned by the client), the
 * driver's stream is destroyed, which closes the file or aborts the upstream HTTP request.
 */
export function serveObject(
  req: Request,
  res: Response,
  next: NextFunction,
  driver: StorageDriver,
  object: StoredObject,
  options: ServeOptions,
) {
  const lastModified = object.updated.toUTCString();
  const plan = planDownload(req.headers, { size: object.size, etag: object.etag, lastModified });

  if (plan.kind === 'precondition-failed') {
    throw new AppError(412, 'precondition_failed', 'A precondition (If-Match / If-Unmodified-Since) does not hold');
  }
  if (plan.kind === 'unsatisfiable') {
    throw new AppError(
      416,
      'range_not_satisfiable',
      'The requested range is not satisfiable',
      { size: object.size },
      { 'Content-Range': plan.contentRange },
    );
  }

  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', options.cacheControl);
  res.setHeader('Last-Modified', lastModified);
  res.setHeader('ETag', object.etag);
  // Appended, never set: CORS already named Origin here, and a CDN keeping a public object with
  // one storefront's Access-Control-Allow-Origin must not hand it to another origin.
  res.vary('Accept-Encoding');
  res.setHeader('Content-Disposition', contentDispositionFor(object));
  if (options.crossOrigin) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');

  if (plan.kind === 'not-modified') {
    res.status(304).end();
    return;
  }

  res.status(plan.status);
  res.setHeader('Content-Type', object.contentType);
  res.setHeader('Content-Length', plan.contentLength);
  if (plan.contentRange) res.setHeader('Content-Range', plan.contentRange);
  if (req.method === 'HEAD' || plan.contentLength === 0) {
    res.end();
    return;
  }

  const source = driver.createReadStream(object, plan.range);
  // Like `send`: pipe, and destroy the source once the response is done or abandoned.
  res.on('close', () => source.destroy());
  source.on('error', (error: Error & { code?: unknown }) => {
    source.destroy();
    if (res.headersSent) {
      // Too late for an answer: cut the connection so the client sees a truncated body.
      res.destroy(error);
      return;
    }
    // The error answer must not look like (or be cached as) the object.
    for (const header of OBJECT_HEADERS) res.removeHeader(header);
    // The object vanished between stat and read, or the storage failed.
    req.log?.warn(`[OBJECTS] ${driver.kind} read failed before the first byte: ${error.message}`);
    next(error.code === 'ENOENT' || error.code === 404 ? notFound('Object') : storageUnavailable());
  });
  source.pipe(res);
}
