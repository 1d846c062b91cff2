import { listRoutes } from '../../../server/lib/route-list';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** Express path syntax → OpenAPI (`/:id` → `/{id}`, `/*path` → `/{path}`). */
const toOpenApiPath = (path: string) => path.replace(/\/$/, '').replace(/[:*](\w+)/g, '{$1}') || '/';

it('serves an OpenAPI 3.1 document generated from the zod contracts', async () => {
  const res = await t.request.get('/api/openapi.json').expect(200);
  expect(res.body.openapi).toBe('3.1.0');
  const register = res.body.paths['/api/auth/register'].post;
  const schema = register.requestBody.content['application/json'].schema;
  expect(schema.required).toEqual(expect.arrayContaining(['email', 'password', 'name']));
  expect(schema.additionalProperties).toBe(false);
  const list = res.body.paths['/api/products'].get;
  const sort = list.parameters.find((p: { name: string }) => p.name === 'sort');
  expect(sort.schema.enum).toEqual(['newest', 'price_asc', 'price_desc']);
});

it('every route the app registers appears in the document, and every documented route exists', async () => {
  const doc = (await t.request.get('/api/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
  const registered = listRoutes(t.app.express).map((r) => `${r.method} ${toOpenApiPath(r.path)}`);
  expect(registered.length).toBeGreaterThan(25);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(registered.filter((r) => !documented.includes(r))).toEqual([]);
  expect(documented.filter((d) => !registered.includes(d))).toEqual([]);
});
