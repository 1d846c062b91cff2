/*
 * Operational errors carry a stable string code (clients and other processes switch on it)
 * and an HTTP status. Anything else reaching the error handler is a programmer error: logged
 * with its stack, answered as a bare 500 without details.
 */

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new AppError(400, code, message, details);
export const unauthorized = (message = 'Sign in first') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'Not allowed', code = 'forbidden') => new AppError(403, code, message);
export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const serviceUnavailable = (code: string, message: string, retryAfterSeconds?: number) =>
  new AppError(503, code, message, undefined, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : undefined);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}
