import { z } from 'zod';
import { defineRoute, json, type Route } from '../../lib/http/define-route';
import { type StoredBody, sendStoredBody, storeJsonBody } from '../../lib/http/stored-body';
import { docsPageRoutes } from './docs-page';
import { buildOpenApiDocument } from './openapi-document';

export { DOCS_SCRIPT_PATH, docsScript } from './docs-page';
export { buildOpenApiDocument } from './openapi-document';

/** `GET /api/docs` (the reference page) and `GET /api/openapi.json`, generated from `routes()` (every declared route, this one included) on first request. */
export function docsRoutes(options: { version: string; sessionCookieName?: string; routes: () => readonly Route[] }): Route[] {
  // Serialised and compressed once: a client (the docs page, a client generator) revalidates with its ETag for a 304.
  let document: Promise<StoredBody> | undefined;
  return [
    ...docsPageRoutes({ title: 'Marketplace API' }),
    defineRoute({
      operationId: 'getOpenApiDocument',
      method: 'get',
      path: '/api/openapi.json',
      tag: 'docs',
      summary: 'This document (OpenAPI 3.1)',
      auth: 'anyone',
      limit: ['reads'],
      responses: { 200: json('The OpenAPI 3.1 document', z.object({ openapi: z.string() }).catchall(z.unknown())) },
      async handler({ req, res }) {
        document ??= storeJsonBody(buildOpenApiDocument(options.routes(), options));
        // no-cache: kept, but asked about each time; a deploy changes the document.
        sendStoredBody(req, res, await document, { 'Cache-Control': 'no-cache' });
        return undefined;
      },
    }),
  ];
}
