import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { ApiRoute } from './api-routes';

const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional(), requestId: z.string() }),
});

/** OpenAPI 3.1 from the route table and its zod schemas. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], info: { version: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: 'sid' });
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });
  for (const route of routes) {
    const status = route.status ?? 200;
    const config: RouteConfig = {
      method: route.method,
      path: route.path,
      tags: [route.tag],
      summary: route.summary,
      ...(route.signedIn ? { security: [{ session: [] }] } : {}),
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.body ? { body: { content: { [route.bodyType ?? 'application/json']: { schema: route.body } } } } : {}),
      },
      responses: {
        [status]: {
          description: 'Success',
          ...(route.response ? { content: { 'application/json': { schema: route.response } } } : {}),
          ...(route.contentType ? { content: { [route.contentType]: { schema: z.string() } } } : {}),
        },
        ...(route.params || route.query || route.body ? { 400: errorResponse('Invalid request (every issue listed)') } : {}),
        ...(route.signedIn ? { 401: errorResponse('Not signed in') } : {}),
        429: errorResponse('Rate limited (see Retry-After)'),
      },
    };
    registry.registerPath(config);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Marketplace API', version: info.version, description: 'Generated from the zod contracts in shared/contracts.' },
  });
}
