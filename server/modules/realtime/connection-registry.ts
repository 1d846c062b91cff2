import type { WebSocket } from 'ws';

export interface Connection {
  id: number;
  userId: string;
  /** The session the socket was opened with: when it ends, the socket goes too. */
  sessionId: string;
  /** That session's expiry as last read from the store (ms since the epoch). */
  sessionExpiresAt: number;
  /** Set when the session ended: nothing is delivered to or acted on from this socket any more. */
  ended: boolean;
  socket: WebSocket;
  /** Cleared on every heartbeat ping, set again by the pong. */
  alive: boolean;
}

function addTo<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(connection);
}

function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = map.get(key);
  set?.delete(connection);
  if (set?.size === 0) map.delete(key);
}

/** Open connections of this instance, by user (a user may have several tabs open) and by session. */
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly all = new Set<Connection>();

  add(connection: Connection): void {
    this.all.add(connection);
    addTo(this.byUser, connection.userId, connection);
    addTo(this.bySession, connection.sessionId, connection);
  }

  remove(connection: Connection): void {
    this.all.delete(connection);
    removeFrom(this.byUser, connection.userId, connection);
    removeFrom(this.bySession, connection.sessionId, connection);
  }

  hasAny(userIds: readonly string[]): boolean {
    return userIds.some((id) => this.byUser.has(id));
  }

  ofUser(userId: string): Connection[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  ofSession(sessionId: string): Connection[] {
    return [...(this.bySession.get(sessionId) ?? [])];
  }

  /** Sends one serialised frame to every open connection of these users; returns how many got it. */
  sendToUsers(userIds: readonly string[], frame: string): number {
    let sent = 0;
    for (const userId of new Set(userIds)) {
      for (const connection of this.byUser.get(userId) ?? []) {
        if (connection.socket.readyState !== connection.socket.OPEN) continue;
        connection.socket.send(frame);
        sent++;
      }
    }
    return sent;
  }

  connections(): IterableIterator<Connection> {
    return this.all.values();
  }

  get size(): number {
    return this.all.size;
  }
}
