import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

/*
 * A route is declared once: method, path, who may call it, which rate-limit buckets it spends
 * from, the zod schemas in and out for every status, and the handler. The Express registration
 * (register-routes.ts) and the OpenAPI document (modules/docs) are both derived from it.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route. `none`: no session is even read (probes and scrapes must answer while
 * the session store is down); `anyone`: the caller is identified when signed in; `user`: 401
 * unless signed in; `{ roles }`: signed in with one of these roles, 403 `forbidden` otherwise;
 * `ops`: operational endpoints, 401 without the ops token (lib/ops-token.ts), no session read.
 */
export type RouteAuth = 'none' | 'anyone' | 'user' | 'ops' | { roles: readonly string[] };

/**
 * The rate-limit buckets a route can spend from; createApp supplies one limiter per name, and
 * says whom each counts (IP, signed-in user, or the account a sign-in names) and what it does
 * when its store is down.
 */
export type LimitBucket = 'reads' | 'writes' | 'auth' | 'login-account' | 'account-mail' | 'uploads' | 'downloads' | 'search' | 'orders';

/**
 * A bucket a route spends from on every request, or only on requests `applies` picks (e.g. a
 * listing spends from `search` only when it carries a search term). `applies` sees the raw
 * request: per-IP buckets are spent before the body is read or anything is validated.
 */
export type LimitSpec = LimitBucket | { bucket: LimitBucket; onlyWhen: string; applies(req: Request): boolean };

/** The bucket a limit entry names. */
export function bucketOf(spec: LimitSpec): LimitBucket {
  return typeof spec === 'string' ? spec : spec.bucket;
}

export interface Caller {
  id: string;
  role: string;
}

export interface HeaderSpec {
  description: string;
  schema: { type: 'string' | 'integer' };
}

export interface ResponseSpec {
  description: string;
  /** A JSON body (the OpenAPI schema and the contract test both come from it). */
  json?: z.ZodType;
  /** A non-JSON body: media type and its JSON Schema (bytes are `{ type: 'string', format: 'binary' }`). */
  content?: { type: string; schema: Record<string, unknown> };
  /** Error responses: the `error.code` values this status can carry (body is the shared error shape). */
  errors?: readonly string[];
  headers?: Record<string, HeaderSpec>;
}

export type Responses = Partial<Record<number, ResponseSpec>>;

/** A request body the route reads itself (e.g. a streamed multipart upload), described for the document only. */
interface RawRequestBody {
  contentType: string;
  description: string;
  schema: Record<string, unknown>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type CallerOf<A extends RouteAuth> = A extends 'none' | 'anyone' | 'ops' ? Caller | undefined : Caller;

export interface RouteContext<P, Q, B, A extends RouteAuth> {
  req: Request;
  res: Response;
  /** For handlers that answer through `res` and fail after returning (a stream error). */
  next: NextFunction;
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  user: CallerOf<A>;
}

/** What a JSON handler returns: a status it declared, with the body that status's schema describes. */
export type Reply<R extends Responses> = {
  [S in keyof R & number]: R[S] extends { json: infer J extends z.ZodType }
    ? { status: S; body: z.input<J>; headers?: Record<string, string> }
    : { status: S; body?: undefined; headers?: Record<string, string> };
}[keyof R & number];

export interface RouteDeclaration<P, Q, B, A extends RouteAuth, R extends Responses> {
  /** Stable camelCase name of the operation (OpenAPI `operationId`). */
  operationId: string;
  method: HttpMethod;
  /** Express path syntax: `/api/products/:id`, `/objects/public/*path`. Also the metrics and access-log label. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: A;
  /**
   * Buckets spent in this order: per-IP buckets (and per-caller ones of requests without a session
   * cookie) before anything else, per-caller ones of requests with a session cookie once the
   * caller is identified (both before the body is read), per-user and per-account ones once the
   * request is validated and authorised. `reads` for GET routes, `writes` for the others.
   */
  limit: readonly LimitSpec[];
  params?: P;
  query?: Q;
  /** A JSON body, validated with the params and query (one 400 `validation_failed` listing every issue). */
  body?: B;
  rawBody?: RawRequestBody;
  /** Request headers the handler reads (e.g. `Idempotency-Key`), for the document; the handler checks them. */
  requestHeaders?: z.ZodObject;
  /** A check that needs the validated input (403 before any per-user bucket is spent). */
  authorize?(context: RouteContext<P, Q, B, A>): void;
  /** Every status this route answers itself; the statuses of the shared plumbing are added (see route-responses.ts). */
  responses: R;
  /** Express fails to decode a malformed %-escape in the path before the route runs: the error to answer instead. */
  malformedPath?: () => Error;
  /** Returns the reply, or answers through `res` itself (streams, cached JSON) and returns nothing. */
  handler(context: RouteContext<P, Q, B, A>): Promise<NoInfer<Reply<R>> | undefined>;
}

/** A declaration with its types erased, as kept in route lists. */
export type Route = RouteDeclaration<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined, RouteAuth, Responses>;

export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  A extends RouteAuth = RouteAuth,
  R extends Responses = Responses,
>(declaration: RouteDeclaration<P, Q, B, A, R>): Route {
  return declaration as unknown as Route;
}

/** The handler's answer: a declared status and its body (type-checked against that status's schema). */
export function reply<S extends number, T = undefined>(
  status: S,
  body?: T,
  headers?: Record<string, string>,
): { status: S; body: T; headers?: Record<string, string> } {
  return { status, body: body as T, ...(headers ? { headers } : {}) };
}

/** An error response: what it means and the `error.code` values it carries. */
export function errors(description: string, ...codes: string[]): ResponseSpec {
  return { description, errors: codes };
}

/** A JSON response. */
export function json<S extends z.ZodType>(
  description: string,
  schema: S,
  headers?: Record<string, HeaderSpec>,
): ResponseSpec & { json: S } {
  return { description, json: schema, ...(headers ? { headers } : {}) };
}

export const noStore: Record<string, HeaderSpec> = {
  'Cache-Control': { description: 'Always `no-store`: the values change between requests', schema: { type: 'string' } },
};
