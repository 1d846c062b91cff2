import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { helmetHeaders } from '../../../server/lib/http/security-headers';

const headersOf = async (app: express.Express) => {
  const res = await request(app).get('/');
  const { date: _date, etag: _etag, ...rest } = res.headers;
  return rest;
};

it("helmet's headers computed once are the headers helmet sets on a real response", async () => {
  const withHelmet = express().use(helmet());
  withHelmet.get('/', (_req, res) => res.send('hi'));
  const precomputed = helmetHeaders();
  const withList = express().use((_req, res, next) => {
    res.removeHeader('X-Powered-By');
    for (const [name, value] of precomputed) res.setHeader(name, value);
    next();
  });
  withList.get('/', (_req, res) => res.send('hi'));
  expect(precomputed.length).toBeGreaterThan(10);
  expect(await headersOf(withList)).toEqual(await headersOf(withHelmet));
});

it('a helmet configuration that cannot be computed once is refused at startup', () => {
  // A CSP directive computed per request (a nonce) depends on the response.
  expect(() =>
    helmetHeaders({
      contentSecurityPolicy: { directives: { scriptSrc: [(_req, res) => `'nonce-${(res as { locals?: { n?: string } }).locals?.n}'`] } },
    }),
  ).toThrow(/cannot be computed once/);
});
