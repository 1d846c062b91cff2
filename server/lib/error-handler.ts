import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { isDatabaseTimeout, pgErrorCode } from '../db/errors';
import { isTransientDatabaseError } from '../db/retry';
import { AppError, type ErrorBody } from './errors';
import { type Logger, summarizeError } from './logger';

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

// SQLSTATE class 22 (data exception) codes that only a request's values can cause.
const DATA_ERRORS = new Set([
  '22001', // string_data_right_truncation
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22021', // character_not_in_repertoire (NUL in text)
  '22P02', // invalid_text_representation
  '22P05', // untranslatable_character
]);

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
  // A value Postgres could not take (a NUL byte, text for a number, a number out of range, a bad
  // date): the request's fault, slipped past validation. The values are not repeated back.
  const code = pgErrorCode(err);
  if (code && DATA_ERRORS.has(code)) {
    return new AppError(400, 'invalid_input', 'A value in the request cannot be stored or compared', { sqlState: code });
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
    // Never the raw message of a failed query: it is the SQL with its parameters (summarizeError, redact).
    if (!known) (req.log ?? logger).error(`[HTTP] Unhandled error: ${summarizeError(err)}`, { error: err, requestId });
    else if (appError.status >= 500) (req.log ?? logger).warn(`[HTTP] ${appError.code}: ${appError.message}`, { requestId });
    else if (appError.code === 'invalid_input') (req.log ?? logger).warn(`[HTTP] ${summarizeError(err)}`, { error: err, requestId });
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
