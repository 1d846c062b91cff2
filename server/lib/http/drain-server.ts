import type http from 'node:http';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

// A request a client already wrote on an idle keep-alive connection may not have been read yet;
// closing that connection at once resets the request. Idle connections get this long first.
const IDLE_GRACE_MS = 500;
// Responses whose headers went out before the drain began keep their connection alive; it is
// closed as soon as it goes idle.
const IDLE_SWEEP_MS = 100;

/**
 * Stops accepting connections and resolves once every open connection has ended: each
 * in-flight request finishes (the app answers `Connection: close` while shutting down), idle
 * keep-alive connections are closed after a grace for requests already on the wire.
 * Node's own `server.close()` also closes idle connections at once, which is the reset this avoids.
 */
export async function drainHttpServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  const open = await new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count ?? 0)));
  if (open > 0) {
    await delay(IDLE_GRACE_MS);
    // Timers run before the poll phase: let one poll read whatever arrived while the loop was busy.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
  }
}
