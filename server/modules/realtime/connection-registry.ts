import type { WebSocket } from 'ws';

export interface Connection {
  id: number;
  userId: string;
  socket: WebSocket;
  /** Cleared on every heartbeat ping, set again by the pong. */
  alive: boolean;
}

/** Open connections of this instance, by user (a user may have several tabs open). */
export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly all = new Set<Connection>();

  add(connection: Connection): void {
    this.all.add(connection);
    let set = this.byUser.get(connection.userId);
    if (!set) {
      set = new Set();
      this.byUser.set(connection.userId, set);
    }
    set.add(connection);
  }

  remove(connection: Connection): void {
    this.all.delete(connection);
    const set = this.byUser.get(connection.userId);
    set?.delete(connection);
    if (set?.size === 0) this.byUser.delete(connection.userId);
  }

  hasAny(userIds: readonly string[]): boolean {
    return userIds.some((id) => this.byUser.has(id));
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
