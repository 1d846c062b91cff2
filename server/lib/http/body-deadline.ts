import type { Request, Response } from 'express';
import type { ErrorBody } from '../errors';
import '../express-types';

const deadlineOf = Symbol('marketplace.bodyDeadline');
type WithDeadline = Request & { [deadlineOf]?: { arrivedAt: number; timer?: NodeJS.Timeout } };

/*
 * A client that sends its headers and then dribbles its body would hold a socket (and a parser
 * waiting on it) for as long as Node's requestTimeout, which must be long enough for the slowest
 * legitimate upload. So every request's body gets its own deadline, counted from the arrival of
 * its headers: HTTP_REQUEST_TIMEOUT_MS, or the upload budget on routes that stream an upload.
 * Past it the client gets 408 `request_timeout` (if nothing was answered yet) and the connection
 * is closed. Node's headersTimeout still covers slow headers.
 */

/**
 * Whether a body follows the headers: HTTP/1.1 says one does only with Content-Length or
 * Transfer-Encoding (RFC 9112 §6.3); the same test as type-is's `hasBody`.
 */
function announcesBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

/** Arms the deadline of a request with a body as it arrives (a bodiless one, most reads, has nothing to police). */
export function armBodyDeadline(req: Request, res: Response, ms: number): void {
  if (!announcesBody(req)) return;
  (req as WithDeadline)[deadlineOf] = { arrivedAt: performance.now() };
  setBodyDeadline(req, res, ms);
}

/** Replaces the request's body deadline with `ms` after its arrival (a route with a budget of its own). */
export function setBodyDeadline(req: Request, res: Response, ms: number): void {
  const state = (req as WithDeadline)[deadlineOf];
  if (!state) return;
  clearTimeout(state.timer);
  if (req.complete) return;
  const stop = () => clearTimeout(state.timer);
  state.timer = setTimeout(() => cutOff(req, res), Math.max(0, state.arrivedAt + ms - performance.now()));
  req.once('end', stop);
  req.once('close', stop);
  // Answered with its body fully read: nothing left to police.
  res.once('finish', () => {
    if (req.complete) stop();
  });
}

function cutOff(req: Request, res: Response): void {
  if (req.complete || req.socket.destroyed) return;
  req.log?.info('[HTTP] Request body did not arrive in time; closing the connection');
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const body: ErrorBody = {
    error: { code: 'request_timeout', message: 'The request body did not arrive in time', requestId: req.id ?? 'unknown' },
  };
  // `Connection: close`: Node ends the socket once the answer is flushed (destroySoon), so the 408 is not lost to a reset.
  res.status(408).set('Connection', 'close').json(body);
}
