import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiPath } from '../../../server/lib/http/route-responses';
import { startTestApp, type TestApp } from '../../support/app';

interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; schema: { default?: unknown } }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> }>;
  'x-rate-limit-buckets'?: string[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let t: TestApp;
let doc: Document;
beforeAll(async () => {
  t = await startTestApp();
  doc = (await t.request.get('/api/openapi.json').expect(200)).body;
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })));

it('serves an OpenAPI 3.1 document generated from the zod contracts', () => {
  expect(doc.openapi).toBe('3.1.0');
  const register = doc.paths['/api/auth/register']!.post!;
  const schema = register.requestBody!.content['application/json']!.schema;
  expect(schema.required).toEqual(expect.arrayContaining(['email', 'password', 'name']));
  expect(schema.additionalProperties).toBe(false);
  const list = doc.paths['/api/products']!.get!;
  const sort = list.parameters!.find((p) => p.name === 'sort')!;
  expect((sort.schema as { enum?: unknown }).enum).toEqual(['newest', 'price_asc', 'price_desc']);
});

it('documents exactly the declared routes, each under a unique camelCase operationId', () => {
  const declared = t.app.routes.map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)} ${r.operationId}`).sort();
  const documented = operations()
    .map(({ method, path, op }) => `${method.toUpperCase()} ${path} ${op.operationId}`)
    .sort();
  expect(documented).toEqual(declared);
  expect(declared.length).toBeGreaterThan(25);
  const ids = operations().map(({ op }) => op.operationId);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
});

it('every 4xx and 5xx answer is the shared error shape with its codes listed; every request body is required', () => {
  const wrong: string[] = [];
  for (const { method, path, op } of operations()) {
    for (const [status, response] of Object.entries(op.responses)) {
      const schema = response.content?.['application/json']?.schema as
        | { allOf?: Array<{ $ref?: string; properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }> }
        | undefined;
      const [shared, codes] = schema?.allOf ?? [];
      const isError = shared?.$ref === '#/components/schemas/Error' && (codes?.properties?.error?.properties?.code?.enum ?? []).length > 0;
      // Health probes answer 503 with their report, not an error.
      if (Number(status) >= 400 && !isError && !(status === '503' && path.startsWith('/api/health')))
        wrong.push(`${method} ${path} ${status}`);
    }
    if (op.requestBody && op.requestBody.required !== true) wrong.push(`${method} ${path} body not required`);
  }
  expect(wrong).toEqual([]);
});

it('every rate-limited operation documents its 429 with Retry-After and RateLimit-*; unlimited ones have no 429', () => {
  for (const { method, path, op } of operations()) {
    const limited = (op['x-rate-limit-buckets'] ?? []).length > 0;
    expect([`${method} ${path}`, op.responses['429']?.headers?.['Retry-After'] !== undefined]).toEqual([`${method} ${path}`, limited]);
    expect([`${method} ${path}`, op.responses['429']?.headers?.['RateLimit-Remaining'] !== undefined]).toEqual([
      `${method} ${path}`,
      limited,
    ]);
  }
  expect(doc.paths['/api/stripe/webhook']!.post!.responses['429']).toBeUndefined();
  expect(doc.paths['/api/health/live']!.get!.responses['429']).toBeUndefined();
  expect(doc.paths['/api/auth/login']!.post!['x-rate-limit-buckets']).toEqual(['writes', 'auth', 'login-account']);
  expect(doc.paths['/api/products']!.get!['x-rate-limit-buckets']).toEqual(['reads', 'search']);
  expect(doc.paths['/api/orders']!.post!['x-rate-limit-buckets']).toEqual(['writes', 'orders']);
});

it('parameter defaults are valid values of their own schema (e.g. limit=20 is the string the query carries)', () => {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  const invalid: string[] = [];
  let withDefault = 0;
  for (const { method, path, op } of operations()) {
    for (const parameter of op.parameters ?? []) {
      if (parameter.schema.default === undefined) continue;
      withDefault++;
      if (!ajv.validate(parameter.schema, parameter.schema.default))
        invalid.push(`${method} ${path} ${parameter.name}: ${ajv.errorsText()}`);
    }
  }
  expect(invalid).toEqual([]);
  expect(withDefault).toBeGreaterThan(5);
});

it('the upload is a multipart body whose file is binary; downloads answer bytes, 206, 304, 412 and 416', () => {
  const upload = doc.paths['/api/uploads']!.post!.requestBody!.content['multipart/form-data']!.schema as {
    required: string[];
    properties: { file: Record<string, unknown> };
  };
  expect(upload.required).toEqual(['file']);
  expect(upload.properties.file).toMatchObject({ type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' });
  const download = doc.paths['/objects/public/{path}']!.get!;
  expect(Object.keys(download.responses)).toEqual(expect.arrayContaining(['200', '206', '304', '400', '404', '412', '416', '503']));
  expect(download.responses['200']!.content!['*/*']!.schema).toEqual({ type: 'string', format: 'binary' });
});
