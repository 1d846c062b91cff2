import {
  OpenApiGeneratorV31,
  OpenAPIRegistry,
  type ResponseConfig,
  type RouteConfig,
  type ZodMediaTypeObject,
} from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { bucketOf, type ResponseSpec, type Route } from '../../lib/http/define-route';
import { openApiPath, responsesOf } from '../../lib/http/route-responses';

type SchemaObject = Exclude<NonNullable<ZodMediaTypeObject['schema']>, z.ZodType>;

// Every 4xx and 5xx answer has this shape (server/lib/error-handler.ts); each response narrows `code` to its own values.
const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every 4xx and 5xx answer has this shape',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'requestId'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code (clients switch on it)' },
        message: { type: 'string' },
        details: { description: 'Depends on the code (e.g. `issues` for validation_failed)' },
        requestId: { type: 'string', description: 'Also sent as the X-Request-Id header' },
      },
    },
  },
};

const errorSchema = (codes: readonly string[]): SchemaObject => ({
  allOf: [
    { $ref: '#/components/schemas/Error' },
    { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: [...codes] } } } } },
  ],
});

const TAGS: Record<string, string> = {
  health: 'Probes, metrics and instance counters',
  docs: 'This description',
  auth: 'Accounts and sessions',
  catalogue: 'Stores and products',
  orders: 'Orders and card payments',
  crypto: 'Crypto rates and quotes',
  objects: 'File uploads and downloads',
  realtime: 'Chat history and notifications (live delivery over the WebSocket at /ws)',
};

function responseConfig(spec: ResponseSpec): ResponseConfig {
  const headers = spec.headers ? { headers: spec.headers as Exclude<ResponseConfig['headers'], z.ZodObject | undefined> } : {};
  if (spec.errors) {
    const codes = spec.errors.map((c) => `\`${c}\``).join(', ');
    return {
      description: `${spec.description}. Codes: ${codes}.`,
      ...headers,
      content: { 'application/json': { schema: errorSchema(spec.errors) } },
    };
  }
  if (spec.json) return { description: spec.description, ...headers, content: { 'application/json': { schema: spec.json } } };
  if (spec.content) return { description: spec.description, ...headers, content: { [spec.content.type]: { schema: spec.content.schema } } };
  return { description: spec.description, ...headers };
}

function security(route: Route): RouteConfig['security'] {
  if (route.auth === 'none') return [];
  // Signed in or not: the session cookie is optional.
  if (route.auth === 'anyone') return [{}, { session: [] }];
  if (route.auth === 'ops') return [{ opsToken: [] }];
  return [{ session: [] }];
}

/** OpenAPI 3.1 from the route declarations: every status each route can answer (its own and the plumbing's). */
export function buildOpenApiDocument(routes: readonly Route[], info: { version: string; sessionCookieName?: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('schemas', 'Error', ERROR_SCHEMA);
  registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: info.sessionCookieName ?? 'sid',
    description: 'Set by register and login',
  });
  registry.registerComponent('securitySchemes', 'opsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'OPS_TOKEN, for the operational endpoints (not needed outside production when unset)',
  });
  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    for (const [status, spec] of responsesOf(route)) responses[status] = responseConfig(spec);
    const body = route.body
      ? { required: true, content: { 'application/json': { schema: route.body } } }
      : route.rawBody
        ? {
            required: true,
            description: route.rawBody.description,
            content: { [route.rawBody.contentType]: { schema: route.rawBody.schema } },
          }
        : undefined;
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: security(route),
      ...(route.limit.length > 0 ? { 'x-rate-limit-buckets': route.limit.map(bucketOf) } : {}),
      request: {
        ...(route.params ? { params: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.requestHeaders ? { headers: route.requestHeaders } : {}),
        ...(body ? { body } : {}),
      },
      responses,
    });
  }
  const usedTags = new Set(routes.map((r) => r.tag));
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Marketplace API',
      version: info.version,
      description: 'Generated from the route declarations (server/lib/http/define-route.ts) and the zod contracts in shared/contracts.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: Object.entries(TAGS)
      .filter(([name]) => usedTags.has(name))
      .map(([name, description]) => ({ name, description })),
  });
}
