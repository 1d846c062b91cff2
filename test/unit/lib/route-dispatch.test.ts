import express, { type Request } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { defineRoute } from '../../../server/lib/http/define-route';
import { routerFor } from '../../../server/lib/http/register-routes';

/*
 * Routes without parameters are found by a map lookup, the others by Express's router: both must
 * answer as Express alone would (case-insensitive, one trailing slash optional, HEAD by GET,
 * declared errors and thrown ones to the error handler).
 */
const ok = z.object({ route: z.string() });
const declared = { tag: 't', summary: 's', auth: 'none', limit: [], responses: { 200: { description: 'ok', json: ok } } } as const;
const routes = [
  defineRoute({
    ...declared,
    operationId: 'listThings',
    method: 'get',
    path: '/api/things',
    handler: async () => ({ status: 200 as const, body: { route: 'list' } }),
  }),
  defineRoute({
    ...declared,
    operationId: 'getThing',
    method: 'get',
    path: '/api/things/:id',
    params: z.object({ id: z.string() }),
    handler: async ({ params }) => ({ status: 200 as const, body: { route: `get ${params.id}` } }),
  }),
  defineRoute({
    ...declared,
    operationId: 'failThing',
    method: 'post',
    path: '/api/things',
    handler: async () => {
      throw new Error('broken');
    },
  }),
];

const app = express();
app.use(routerFor(routes, { limiters: {}, identify: (_req, _res, next) => next(), callerOf: () => undefined }));
app.use((_req: Request, res: express.Response) => res.status(404).json({ route: 'none' }));
app.use((error: Error, _req: Request, res: express.Response, _next: express.NextFunction) =>
  res.status(500).json({ error: error.message }),
);

it.each([
  ['/api/things', 'list'],
  ['/api/things/', 'list'],
  ['/API/Things', 'list'],
  ['/api/things?x=1', 'list'],
  ['/api/things/7', 'get 7'],
])('GET %s is answered by the %s route', async (url, route) => {
  const res = await request(app).get(url).expect(200);
  expect(res.body).toEqual({ route });
});

it('HEAD on a route without parameters is answered by its GET handler, without a body', async () => {
  const res = await request(app).head('/api/things').expect(200);
  expect(res.headers['content-type']).toMatch(/json/);
  expect(res.text).toBeUndefined();
});

it('a path no route declares falls through to what follows', async () => {
  await request(app).get('/api/things/7/more').expect(404, { route: 'none' });
  await request(app).delete('/api/things').expect(404, { route: 'none' });
});

it('a handler that rejects reaches the error handler', async () => {
  await request(app).post('/api/things').expect(500, { error: 'broken' });
});
