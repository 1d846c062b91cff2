import net from 'node:net';

export interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection (or it was reset): what it had sent, and when. */
  closed: Promise<{ text: string; at: number }>;
  /** Resolves with the first complete response (head and Content-Length body), or undefined if none came within `timeoutMs`. */
  response(timeoutMs: number): Promise<{ status: number; head: string; body: string } | undefined>;
}

/**
 * A plain TCP connection to an HTTP server, for clients no HTTP library plays: headers now, the
 * body late or never. Errors (a reset) count as the server closing.
 */
export function openRawConnection(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect({ host: hostname, port: Number(port) });
  let text = '';
  const listeners = new Set<() => void>();
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    for (const listener of listeners) listener();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; at: number }>((resolve) => socket.once('close', () => resolve({ text, at: Date.now() })));
  const parse = () => {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = text.slice(0, end);
    const body = text.slice(end + 4);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (length !== undefined && Buffer.byteLength(body, 'latin1') < Number(length)) return undefined;
    return { status: Number(head.split(' ')[1]), head, body };
  };
  const connection: RawConnection = {
    socket,
    received: () => text,
    closed,
    response(timeoutMs) {
      const now = parse();
      if (now) return Promise.resolve(now);
      return new Promise((resolve) => {
        const done = (value: ReturnType<typeof parse>) => {
          clearTimeout(timer);
          listeners.delete(onData);
          resolve(value);
        };
        const onData = () => {
          const parsed = parse();
          if (parsed) done(parsed);
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        listeners.add(onData);
        void closed.then(() => done(parse()));
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(connection));
    socket.once('error', reject);
  });
}
