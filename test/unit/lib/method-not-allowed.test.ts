import express from 'express';
import supertest from 'supertest';
import { methodNotAllowed } from '../../../server/lib/http/method-not-allowed';
import type { Route } from '../../../server/lib/http/define-route';

// Only method and path matter to the middleware.
const routes = [
  { method: 'get', path: '/api/things' },
  { method: 'post', path: '/api/things' },
  { method: 'patch', path: '/api/things/:id' },
] as unknown as Route[];

function app() {
  const app = express();
  app.use(methodNotAllowed(routes));
  app.use((_req, res) => {
    res.status(404).end();
  });
  app.use(
    (
      error: { status: number; code: string; headers: Record<string, string> },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      res.status(error.status).set(error.headers).json({ code: error.code });
    },
  );
  return supertest(app);
}

it('when a declared path is asked with an undeclared method, then 405 method_not_allowed with Allow (HEAD with GET)', async () => {
  const res = await app().put('/api/things');
  expect([res.status, res.headers.allow, res.body.code]).toEqual([405, 'GET, HEAD, POST', 'method_not_allowed']);
  const param = await app().delete('/api/things/42');
  expect([param.status, param.headers.allow]).toEqual([405, 'PATCH']);
});

it('when no router answered a plain OPTIONS on a declared path, then 204 with Allow; unknown paths and allowed methods pass on', async () => {
  const options = await app().options('/api/things/42');
  expect([options.status, options.headers.allow]).toEqual([204, 'PATCH']);
  expect((await app().delete('/api/other')).status).toBe(404);
  expect((await app().get('/api/things')).status).toBe(404);
});
