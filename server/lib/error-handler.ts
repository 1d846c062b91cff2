import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { isDatabaseTimeout } from '../db/errors';
import { isTransientDatabaseError } from '../db/retry';
import { AppError, type ErrorBody } from './errors';
import type { Logger } from './logger';

// body-parser (express.json) errors carry a `type` and an HTTP status; map them to our codes.
const BODY_PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'Request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'Request body is too large' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'Unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'Unsupported charset' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'Request aborted' },
  'request.size.invalid': { status: 400, code: 'invalid_body_length', message: 'Request size did not match Content-Length' },
  'stream.encoding.set': { status: 500, code: 'internal_error', message: 'Internal server error' },
};

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    return new AppError(400, 'validation_failed', 'Invalid request', { issues: err.issues });
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) {
    const known = BODY_PARSER_ERRORS[type]!;
    return new AppError(known.status, known.code, known.message);
  }
  // The database did not answer in time (a statement timeout, or a frozen server the client
  // stopped waiting for): the client may retry; this is not our bug.
  if (isDatabaseTimeout(err)) {
    return new AppError(503, 'database_timeout', 'The database did not answer in time', undefined, { 'Retry-After': '5' });
  }
  // The database is unreachable or restarting: the client may retry; this is not our bug.
  if (isTransientDatabaseError(err)) {
    return new AppError(503, 'database_unavailable', 'The database is temporarily unavailable', undefined, { 'Retry-After': '5' });
  }
  // Any other error that already says it is a client error (`status` 4xx, the http-errors
  // convention Express and its parsers follow). An SDK's `statusCode` is its upstream's answer,
  // not ours: Stripe's 401 for a wrong API key must not tell a signed-in buyer to sign in.
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, 'bad_request', (err as Error).message || 'Bad request');
  }
  return undefined;
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(new AppError(404, 'not_found', `No route for ${req.method} ${req.path}`));
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = toAppError(err);
    const requestId = req.id ?? 'unknown';
    const appError = known ?? new AppError(500, 'internal_error', 'Internal server error');
    if (!known) (req.log ?? logger).error(`[HTTP] Unhandled error: ${(err as Error)?.message}`, { error: err, requestId });
    else if (appError.status >= 500) (req.log ?? logger).warn(`[HTTP] ${appError.code}: ${appError.message}`, { requestId });
    if (res.headersSent) {
      // Too late for a JSON answer (a stream failed mid-way): cut the connection so the client sees the failure.
      res.destroy();
      return;
    }
    const body: ErrorBody = { error: { code: appError.code, message: appError.message, requestId } };
    if (appError.details !== undefined) body.error.details = appError.details;
    if (appError.headers) res.set(appError.headers);
    res.status(appError.status).json(body);
  };
}
