import { readFileSync } from 'node:fs';
import { CLIENT_TYPES_FILE, clientTypesFor } from '../../../scripts/generate-client';
import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

it('the committed client types equal a fresh generation from the served OpenAPI document (run `npm run client:generate` after changing a route)', async () => {
  const document = (await t.request.get('/api/openapi.json').expect(200)).body;
  expect(await clientTypesFor(document)).toBe(readFileSync(CLIENT_TYPES_FILE, 'utf8'));
});
