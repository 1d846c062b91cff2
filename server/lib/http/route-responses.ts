import { bucketOf, type HeaderSpec, type ResponseSpec, type Route } from './define-route';

const retryAfter: Record<string, HeaderSpec> = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};
// IETF draft RateLimit header fields, for the bucket that refused (the scarcest one on other answers).
const rateLimited: Record<string, HeaderSpec> = {
  ...retryAfter,
  'RateLimit-Limit': { description: 'Points of the bucket per window', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Points left in the window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window ends', schema: { type: 'integer' } },
};

const etagHeader: Record<string, HeaderSpec> = {
  ETag: { description: 'Strong validator of the body as sent (a compressed body carries its own)', schema: { type: 'string' } },
};

/*
 * The answers the shared plumbing gives on a route's behalf, so a declaration lists only what its
 * own handler and services answer: validation (validate.ts), sign-in and role checks, rate
 * limits, the JSON body parser (after the per-IP limits, register-routes.ts), the body deadline
 * and origin check that run before every route (app.ts), the
 * session store and database (error-handler.ts), and the 500 every route can give.
 */
function plumbingResponses(route: Route): Array<[number, ResponseSpec]> {
  const out: Array<[number, ResponseSpec]> = [];
  const signedIn = route.auth !== 'none' && route.auth !== 'anyone' && route.auth !== 'ops';
  if (route.params || route.query || route.body)
    out.push([
      400,
      {
        description:
          'Invalid request (every issue in `details.issues`), or a value the database cannot take (`invalid_input`, its SQLSTATE in `details.sqlState`)',
        errors: ['validation_failed', 'invalid_input'],
      },
    ]);
  // express.json parses any request that says it carries JSON, whatever its method.
  out.push([400, { description: 'Malformed JSON body', errors: ['invalid_json', 'request_aborted', 'invalid_body_length'] }]);
  out.push([413, { description: 'JSON body larger than 1 MB', errors: ['payload_too_large'] }]);
  out.push([408, { description: 'The request body did not arrive in time (the connection is closed)', errors: ['request_timeout'] }]);
  out.push([415, { description: 'Unsupported body encoding or charset', errors: ['unsupported_encoding', 'unsupported_charset'] }]);
  // Express cannot decode a malformed %-escape in a path parameter and answers before the route runs.
  if (/[:*]/.test(route.path) && !route.malformedPath)
    out.push([400, { description: 'A path parameter has a malformed %-escape', errors: ['bad_request'] }]);
  // A GET's JSON 200 carries a strong ETag; If-None-Match naming it gets a 304 (send-json-reply.ts).
  if (route.method === 'get' && route.responses[200]?.json)
    out.push([304, { description: 'Not modified: If-None-Match names the ETag of this answer', headers: etagHeader }]);
  if (route.method !== 'get')
    out.push([403, { description: 'Cross-origin request refused (foreign Origin header)', errors: ['foreign_origin'] }]);
  if (signedIn) out.push([401, { description: 'Not signed in', errors: ['unauthorized'] }]);
  if (route.auth === 'ops')
    out.push([401, { description: 'The ops token is missing or wrong (open without one outside production)', errors: ['unauthorized'] }]);
  if (typeof route.auth === 'object') out.push([403, { description: `Only for ${route.auth.roles.join(', ')}`, errors: ['forbidden'] }]);
  if (route.limit.length > 0) {
    const buckets = route.limit.map((spec) => (typeof spec === 'string' ? spec : `${bucketOf(spec)} when ${spec.onlyWhen}`));
    out.push([
      429,
      { description: `Rate limited (buckets: ${buckets.join(', ')}); see Retry-After`, errors: ['rate_limited'], headers: rateLimited },
    ]);
  }
  // Any route may reach the database (a signed-in one at least through its session), and a
  // database may be down or frozen; health answers while the server starts (app.ts), so probes
  // see why it is not ready.
  const unavailable = ['database_unavailable', 'database_timeout'];
  if (!route.path.startsWith('/api/health')) unavailable.push('starting');
  // A bucket that fails closed (sign-in, registration) refuses while its store cannot count.
  if (route.limit.length > 0) unavailable.push('rate_limit_unavailable');
  out.push([
    503,
    {
      description: `The database or session store is unavailable or did not answer in time${unavailable.includes('starting') ? ', or the server is starting (migrations pending)' : ''}${route.limit.length > 0 ? ', or a rate limit that fails closed cannot be checked' : ''}; see Retry-After`,
      errors: unavailable,
      headers: retryAfter,
    },
  ]);
  out.push([500, { description: 'Unexpected server error (logged with the request id)', errors: ['internal_error'] }]);
  return out;
}

/** Every status a route can answer with: its own declared responses plus the plumbing's, error codes merged per status. */
export function responsesOf(route: Route): Map<number, ResponseSpec> {
  const all = new Map<number, ResponseSpec>();
  for (const [status, spec] of Object.entries(route.responses)) if (spec) all.set(Number(status), spec);
  for (const [status, spec] of plumbingResponses(route)) {
    const declared = all.get(status);
    if (!declared) all.set(status, spec);
    else if (declared.errors) {
      // Same status from the route and the plumbing: one error response listing both meanings.
      all.set(status, {
        description: `${declared.description}; ${spec.description}`,
        errors: [...new Set([...declared.errors, ...(spec.errors ?? [])])],
        headers: { ...spec.headers, ...declared.headers },
      });
    }
    // A declared success body under an error status (health's 503 report) is kept as declared.
  }
  return new Map([...all].sort(([a], [b]) => a - b));
}

/** `/api/products/:id` → `/api/products/{id}`; `/objects/public/*path` → `/objects/public/{path}`. */
export function openApiPath(path: string): string {
  return path.replace(/[:*](\w+)/g, '{$1}');
}
