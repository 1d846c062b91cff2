import WebSocket from 'ws';

export type Frame = { type: string; [key: string]: unknown };

/**
 * A real `ws` client that buffers every frame it receives, so a test can await "the next
 * frame matching X" without racing the server, and await the close with its code.
 */
export class TestWsClient {
  private readonly buffered: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.buffered.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static connect(baseUrl: string, options: { cookie?: string; origin?: string; autoPong?: boolean } = {}): Promise<TestWsClient> {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.Cookie = options.cookie;
    if (options.origin) headers.Origin = options.origin;
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers, autoPong: options.autoPong ?? true });
    const client = new TestWsClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first not-yet-consumed frame matching `match` (by type or predicate); removes it from the buffer. */
  next(match: string | ((frame: Frame) => boolean), timeoutMs = 5_000): Promise<Frame> {
    const predicate = typeof match === 'string' ? (f: Frame) => f.type === match : match;
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.buffered.findIndex(predicate);
        if (index < 0) return false;
        const [frame] = this.buffered.splice(index, 1);
        this.waiters.delete(wake);
        clearTimeout(timer);
        resolve(frame!);
        return true;
      };
      const wake = () => void check();
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new Error(
            `no ${typeof match === 'string' ? match : 'matching'} frame within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buffered)}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.add(wake);
    });
  }

  /** The close event (code, reason), or a rejection if it has not come within `timeoutMs`. */
  closedWithin(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** Frames received and not consumed by `next`. */
  pending(): Frame[] {
    return [...this.buffered];
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close();
    return this.closed;
  }
}

export interface RefusedUpgrade {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code?: string } };
}

/** Attempts an upgrade that the server should refuse; resolves with the HTTP answer (status, headers, JSON body). */
export function refusedUpgrade(baseUrl: string, headers: Record<string, string> = {}, path = '/ws'): Promise<RefusedUpgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`, { headers });
    socket.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} });
        socket.terminate();
      });
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', (error) => reject(error));
  });
}

/** Attempts an upgrade that the server should refuse; resolves with the HTTP status it answered. */
export function refusedUpgradeStatus(baseUrl: string, headers: Record<string, string> = {}, path = '/ws'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`, { headers });
    socket.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', (error) => reject(error));
  });
}
