import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { serviceUnavailable } from '../../lib/errors';
import { defineRoute, type Route } from '../../lib/http/define-route';
import { type StoredBody, sendStoredBody, storeBytes } from '../../lib/http/stored-body';

export const DOCS_PAGE_PATH = '/api/docs';
export const DOCS_SCRIPT_PATH = '/api/docs/scalar.js';
// The Scalar browser bundle ships in @scalar/api-reference (dist/browser/standalone.js); the express package only writes the HTML.
const SCALAR_BUNDLE = '@scalar/api-reference/dist/browser/standalone.js';

/**
 * Where the installed Scalar bundle lives, or undefined when the package is missing. Found beside
 * the package's entry (dist/index.js): its `exports` map does not list the bundle's subpath.
 */
function scalarBundlePath(): string | undefined {
  try {
    const bundle = path.join(path.dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js');
    return existsSync(bundle) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

interface DocsPage {
  html: StoredBody;
  csp: string;
}

/*
 * The page @scalar/express-api-reference writes, with its script pointed at our own copy of the
 * bundle (never a CDN) and the default web fonts off (they come from Scalar's servers). Its one
 * inline script is allowed by hash, so the page gets a CSP of its own and the API keeps helmet's.
 * Styles: Scalar's Vue components insert <style> elements at run time, which no hash can name.
 */
async function buildDocsPage(title: string): Promise<DocsPage> {
  const { apiReference } = await import('@scalar/express-api-reference');
  let html = '';
  const capture = { type: () => capture, send: (body: string) => (html = body) };
  // Its AI agent ("Ask AI") calls Scalar's servers (proxy.scalar.com): off, like the fonts.
  apiReference({ url: '/api/openapi.json', cdn: DOCS_SCRIPT_PATH, pageTitle: title, withDefaultFonts: false, agent: { disabled: true } })(
    undefined as never,
    capture as never,
    () => undefined,
  );
  const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    ([, body]) =>
      `'sha256-${createHash('sha256')
        .update(body ?? '')
        .digest('base64')}'`,
  );
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: await storeBytes(Buffer.from(html), 'text/html; charset=utf-8'), csp };
}

/** `GET /api/docs`: the Scalar reference for /api/openapi.json. */
export function docsPageRoutes(options: { title: string }): Route[] {
  let page: Promise<DocsPage> | undefined;
  return [
    defineRoute({
      operationId: 'getApiReference',
      method: 'get',
      path: DOCS_PAGE_PATH,
      tag: 'docs',
      summary: 'This description as a page (Scalar API reference)',
      auth: 'anyone',
      limit: ['reads'],
      responses: {
        200: { description: 'The API reference page', content: { type: 'text/html', schema: { type: 'string' } } },
        304: { description: 'Not modified: If-None-Match names the ETag of this page' },
      },
      async handler({ req, res }) {
        page ??= buildDocsPage(options.title);
        const { html, csp } = await page;
        // Stored once with its ETag: a reload revalidates for a 304; no-cache, as a deploy changes it.
        sendStoredBody(req, res, html, { 'Content-Security-Policy': csp, 'Cache-Control': 'no-cache' });
        return undefined;
      },
    }),
  ];
}

/**
 * `GET /api/docs/scalar.js`: the page's script, the Scalar bundle from node_modules. A static
 * asset of the page, not an API operation, so it is mounted as plain middleware and stays out of
 * the OpenAPI document (and the generated client). 503 `docs_unavailable` when not installed.
 */
export function docsScript(): RequestHandler {
  const bundle = scalarBundlePath();
  /*
   * Read and compressed once (on the thread pool), on first request: the bundle is 3.5 MB, and
   * compressing it per request cost ~60 ms of CPU for any anonymous caller. Sent as stored bytes
   * with an ETag per coding, so a browser revalidating gets a 304.
   */
  let stored: Promise<StoredBody> | undefined;
  return (req, res, next) => {
    if (!bundle) return next(serviceUnavailable('docs_unavailable', `The API reference bundle is not installed (${SCALAR_BUNDLE})`));
    stored ??= readFile(bundle)
      .then((bytes) => storeBytes(bytes, 'text/javascript; charset=utf-8'))
      .catch((error: unknown) => {
        // A failed read is tried again by the next request, not remembered.
        stored = undefined;
        throw error;
      });
    stored
      // One day: the bundle changes only with a deploy, and a stale copy still renders the current document.
      .then((body) => sendStoredBody(req, res, body, { 'Cache-Control': 'public, max-age=86400' }))
      .catch(next);
  };
}
