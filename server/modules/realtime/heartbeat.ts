import type { ConnectionRegistry } from './connection-registry';

/**
 * Protocol pings every `intervalMs`; a connection whose pong has not come back by the next
 * round is terminated (a half-open TCP connection otherwise stays "open" for hours).
 */
export function startHeartbeat(registry: ConnectionRegistry, intervalMs: number, onTerminated: () => void): () => void {
  const timer = setInterval(() => {
    for (const connection of registry.connections()) {
      if (!connection.alive) {
        connection.socket.terminate();
        onTerminated();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
