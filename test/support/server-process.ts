import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './database';
import { freePort } from './ports';

const root = path.resolve(__dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves when the output contains `text`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the server, or with `processGroup` every process in its group (as Ctrl-C does). */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * The real server (`server/index.ts`) in a child process, as `npm run dev` runs it but in
 * one process (node with tsx's loader) so signals reach it directly.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: {
    processGroup?: boolean /** Another entry point, e.g. a compiled build: node's arguments and directory. */;
    entry?: { args: string[]; cwd: string };
  } = {},
): Promise<ServerProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, options.entry?.args ?? ['--import', 'tsx', 'server/index.ts'], {
    cwd: options.entry?.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env, PORT: port, HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so `kill` can signal the whole group as a terminal's Ctrl-C does.
    detached: options.processGroup,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (options.processGroup && child.exitCode === null && child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
    },
    waitForOutput(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (typeof text === 'string' ? output.includes(text) : text.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (child.exitCode !== null) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`server exited (${child.exitCode}) before printing ${text}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`server did not print ${text} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Polls `url` until `accept(status)` holds; returns how long that took. Polling is the only way to observe a remote state change. */
export async function pollUntil(url: string, accept: (status: number) => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    let status = 0;
    try {
      status = (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
    } catch {
      status = 0;
    }
    if (accept(status)) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`${url} never satisfied the condition within ${timeoutMs} ms (last status ${status})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * For a test file whose servers run as real processes: a database of its own (made before the
 * file's tests, dropped after them) and `spawn`, which starts a server on it; every server started
 * is killed after the file, whatever state its test left it in.
 */
export function serverProcessesOnOwnDatabase(): {
  databaseUrl(): string;
  spawn(env?: Record<string, string>): Promise<ServerProcess>;
} {
  let testDb: TestDatabase | undefined;
  const started: ServerProcess[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    for (const server of started) server.kill('SIGKILL');
    await testDb?.drop();
  });
  const databaseUrl = () => {
    if (!testDb) throw new Error('the database is made in beforeAll');
    return testDb.url;
  };
  return {
    databaseUrl,
    async spawn(env = {}) {
      const server = await spawnServer({ DATABASE_URL: databaseUrl(), ...env });
      started.push(server);
      return server;
    },
  };
}
