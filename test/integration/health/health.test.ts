import { startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('health endpoints', () => {
  it('when the database is up, /api/health is 200 with latency and pool stats', async () => {
    const res = await t.request.get('/api/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.components.database).toMatchObject({ status: 'ok', driver: 'pg' });
    expect(res.body.components.database.latencyMs).toEqual(expect.any(Number));
    expect(res.body.components.database.pool).toEqual({
      total: expect.any(Number),
      idle: expect.any(Number),
      waiting: expect.any(Number),
    });
    expect(res.body.components.database.pool.total).toBeGreaterThanOrEqual(1);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('live and ready answer 200 once started', async () => {
    await t.request.get('/api/health/live').expect(200, { status: 'ok' });
    await t.request.get('/api/health/ready').expect(200, { ready: true, reasons: [] });
  });
});

describe('errors', () => {
  it('an unknown route is a 404 in the one error shape, with the request id echoed', async () => {
    const res = await t.request.get('/api/does-not-exist').set('X-Request-Id', 'trace-123').expect(404);
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect(res.body).toEqual({
      error: { code: 'not_found', message: 'No route for GET /api/does-not-exist', requestId: 'trace-123' },
    });
  });

  it('an unsafe incoming request id is replaced by a generated one', async () => {
    const res = await t.request.get('/nowhere').set('X-Request-Id', '<script>alert(1)</script>').expect(404);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('malformed JSON is a 400 invalid_json, never a 500 (an unknown path never reads the body: 404)', async () => {
    const res = await t.request.post('/api/auth/login').set('Content-Type', 'application/json').send('{"a": ').expect(400);
    expect(res.body.error.code).toBe('invalid_json');
    expect(res.body.error.requestId).toEqual(expect.any(String));
    await t.request.post('/api/anything').set('Content-Type', 'application/json').send('{"a": ').expect(404);
  });

  it('a route that takes no body never reads one (probes and /metrics cannot be made to parse JSON)', async () => {
    for (const path of ['/api/health/live', '/api/health/ready', '/metrics']) {
      await t.request.get(path).set('Content-Type', 'application/json').send('{"a": ').expect(200);
    }
    await t.request.post('/api/auth/logout').set('Content-Type', 'application/json').send('{"a": ').expect(204);
  });

  it('a JSON body over 1 MB is a 413', async () => {
    const big = JSON.stringify({ x: 'a'.repeat(1_100_000) });
    const res = await t.request.post('/api/auth/login').set('Content-Type', 'application/json').send(big).expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('security headers are set (helmet) and X-Powered-By is not', async () => {
    const res = await t.request.get('/api/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('metrics', () => {
  it('GET /metrics is Prometheus text with the request duration histogram by route pattern', async () => {
    await t.request.get('/api/health/live').expect(200);
    const res = await t.request.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/health\/live",status="200"\} [1-9]/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('exposes both pools, the session count, cache, breakers, WebSocket gauges and the outbox backlog', async () => {
    const res = await t.request.get('/metrics').expect(200);
    expect(res.text).toMatch(/db_pool_connections\{pool="app",state="total"\} \d+/);
    expect(res.text).toMatch(/db_pool_connections\{pool="sessions",state="waiting"\} 0/);
    expect(res.text).toMatch(/sessions_active \d+/);
    expect(res.text).toMatch(/marketplace_cache_keys \d+/);
    expect(res.text).toMatch(/crypto_rates_breaker_state\{provider="coingecko"\} 0/);
    expect(res.text).toMatch(/marketplace_email_outbox_backlog \d+/);
    expect(res.text).toMatch(/ws_connections_active \d+/);
  });
});
