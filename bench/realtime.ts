/*
 * Realtime benchmark: N idle authenticated WebSocket connections held by the real server
 * (RSS per connection) and message fan-out latency at a steady rate, each against a bare `ws`
 * relay server measured in the same run. Servers run in their own processes so their RSS is
 * theirs alone; this process is the client side.
 *
 *   npx tsx bench/realtime.ts            (WS_BENCH_CONNECTIONS=5000, WS_BENCH_RATE=100 msg/s,
 *                                          WS_BENCH_SECONDS=5, WS_BENCH_TABS=10 receiving tabs)
 */
import { execSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket, { WebSocketServer } from 'ws';
import { spawnServer } from '../test/support/server-process';
import { sidCookie } from '../test/support/session-cookie';
import { startBenchPostgres } from './support/postgres';
import { runStandalone } from './support/standalone';
import type { BenchResult } from './types';

const envInt = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Opens `count` connections, `concurrency` upgrades at a time. */
async function openMany(count: number, url: string, headers: Record<string, string>, concurrency = 200): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let done = 0; done < count; done += concurrency) {
    const batch = Math.min(concurrency, count - done);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(url, headers)))));
  }
  return sockets;
}

interface FanoutRun {
  /** Sends message `seq` (the caller records the send time). */
  send(seq: number): void;
  /** Calls back with `seq` whenever a receiving tab gets message `seq`. */
  onReceive(tab: WebSocket, handler: (seq: number) => void): void;
}

/** Sends `rate` messages per second for `seconds`; returns every send→receive latency (ms) over all tabs. */
async function measureFanout(run: FanoutRun, tabs: WebSocket[], rate: number, seconds: number): Promise<number[]> {
  const total = rate * seconds;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const expected = total * tabs.length;
  const allArrived = new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`only ${latencies.length}/${expected} deliveries arrived`)), (seconds + 30) * 1000);
    for (const tab of tabs) {
      run.onReceive(tab, (seq) => {
        const started = sentAt.get(seq);
        if (started === undefined) return;
        latencies.push(performance.now() - started);
        if (latencies.length === expected) {
          clearTimeout(guard);
          resolve();
        }
      });
    }
  });
  const begin = performance.now();
  for (let seq = 0; seq < total; seq++) {
    // Steady schedule: message n leaves at begin + n/rate, whatever the previous one cost.
    const due = begin + (seq * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(seq, performance.now());
    run.send(seq);
  }
  await allArrived;
  return latencies.sort((a, b) => a - b);
}

/** Child-process mode: a bare `ws` server relaying every frame from a `sender` to every `recv` connection. */
function runBareServer(): void {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 1024 } });
  const receivers = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    const role = new URL(req.url ?? '/', 'http://x').searchParams.get('role');
    if (role === 'recv') receivers.add(ws);
    ws.on('close', () => receivers.delete(ws));
    if (role === 'sender')
      ws.on('message', (data) => {
        const text = data.toString();
        for (const r of receivers) r.send(text);
      });
  });
  wss.on('listening', () => process.send?.({ port: (wss.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
}

interface Measured {
  rssPerConnection: number;
  held: number;
  latencies: number[];
}

async function benchBare(connections: number, tabsCount: number, rate: number, seconds: number): Promise<Measured> {
  const child = fork(__filename, ['--bare-server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
    const base = `ws://127.0.0.1:${port}/`;
    const before = rssBytes(child.pid!);
    const idle = await openMany(connections, `${base}?role=idle`, {});
    const after = rssBytes(child.pid!);
    const tabs = await openMany(tabsCount, `${base}?role=recv`, {});
    const sender = await open(`${base}?role=sender`);
    const latencies = await measureFanout(
      {
        send: (seq) => sender.send(JSON.stringify({ seq })),
        onReceive: (tab, handler) => tab.on('message', (data) => handler((JSON.parse(data.toString()) as { seq: number }).seq)),
      },
      tabs,
      rate,
      seconds,
    );
    const held = idle.filter((w) => w.readyState === WebSocket.OPEN).length;
    for (const ws of [...idle, ...tabs, sender]) ws.terminate();
    return { rssPerConnection: (after - before) / connections, held, latencies };
  } finally {
    child.kill('SIGKILL');
  }
}

async function register(url: string, name: string): Promise<{ id: string; cookie: string }> {
  const res = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${name}-${Date.now()}@bench.example.com`, password: 'bench-password-123', name }),
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { id: string } };
  return { id: body.user.id, cookie: sidCookie(res.headers.getSetCookie()) };
}

async function benchApp(connections: number, tabsCount: number, rate: number, seconds: number): Promise<Measured> {
  const postgres = await startBenchPostgres();
  // The server process migrates and pools on its own; this side only creates the database.
  const { url: databaseUrl } = await postgres.createDatabase('bench_ws', { max: 1 });
  const server = await spawnServer({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    RATE_LIMIT_READS_PER_MIN: '100000',
    RATE_LIMIT_WRITES_PER_MIN: '100000',
    WS_MESSAGES_PER_MIN: '1000000',
    // Thousands of idle tabs of one user from one address: the caps would refuse them.
    WS_MAX_SOCKETS_PER_USER: '1000000',
    WS_MAX_SOCKETS_PER_IP: '1000000',
    // The server's connection cap (4,096 by default) would drop the 5,000 idle sockets past it.
    HTTP_MAX_CONNECTIONS: '1000000',
  });
  try {
    await server.waitForOutput('[SERVER] Ready at', 60_000);
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
    const [idleUser, senderUser, receiverUser] = [
      await register(server.url, 'idle'),
      await register(server.url, 'sender'),
      await register(server.url, 'receiver'),
    ];
    const pid = server.child.pid!;
    const before = rssBytes(pid);
    // Every idle connection shares one session cookie (one user with N tabs: none of them is messaged).
    const idle = await openMany(connections, wsUrl, { Cookie: idleUser.cookie });
    const after = rssBytes(pid);
    const stats = (await (await fetch(`${server.url}/api/health/ws-stats`)).json()) as { connections: { active: number } };
    const tabs = await openMany(tabsCount, wsUrl, { Cookie: receiverUser.cookie });
    const sender = await open(wsUrl, { Cookie: senderUser.cookie });
    const latencies = await measureFanout(
      {
        send: (seq) => sender.send(JSON.stringify({ type: 'message.send', to: receiverUser.id, body: `seq:${seq}` })),
        onReceive: (tab, handler) =>
          tab.on('message', (data) => {
            const frame = JSON.parse(data.toString()) as { type: string; message?: { body: string } };
            if (frame.type === 'message.new' && frame.message) handler(Number(frame.message.body.slice(4)));
          }),
      },
      tabs,
      rate,
      seconds,
    );
    for (const ws of [...idle, ...tabs, sender]) ws.terminate();
    return { rssPerConnection: (after - before) / connections, held: stats.connections.active, latencies };
  } finally {
    server.kill('SIGTERM');
    await server.exited;
    await postgres.stop();
  }
}

export async function runRealtimeBench(): Promise<BenchResult[]> {
  const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/bash' }).toString().trim());
  const requested = envInt('WS_BENCH_CONNECTIONS', 5_000);
  // This process holds one fd per client connection; keep head room for everything else.
  const connections = Math.min(requested, fdLimit - 500);
  if (connections < requested) console.warn(`[BENCH] ulimit -n is ${fdLimit}: holding ${connections} connections instead of ${requested}`);
  const tabs = envInt('WS_BENCH_TABS', 10);
  const rate = envInt('WS_BENCH_RATE', 100);
  const seconds = envInt('WS_BENCH_SECONDS', 5);

  const bare = await benchBare(connections, tabs, rate, seconds);
  const app = await benchApp(connections, tabs, rate, seconds);
  const kb = (bytes: number) => round(bytes / 1024, 1);
  const p = (m: Measured, q: number) => round(percentile(m.latencies, q));
  return [
    // biome-ignore format: the benchmark targets stay exactly as written
    { name: 'ws: open file limit (ulimit -n)', value: fdLimit, unit: 'fds', target: `≥ ${requested + 500}`, pass: fdLimit >= requested + 500 },
    // biome-ignore format: the benchmark targets stay exactly as written
    { name: 'ws: idle authenticated connections held', value: app.held, unit: 'connections', baseline: bare.held, target: `= ${requested}`, pass: app.held === requested },
    {
      name: 'ws: RSS per idle connection',
      value: kb(app.rssPerConnection),
      unit: 'KiB',
      baseline: kb(bare.rssPerConnection),
      ratio: round(app.rssPerConnection / bare.rssPerConnection),
      target: '≤ 3× bare ws',
      pass: app.rssPerConnection <= 3 * bare.rssPerConnection,
    },
    {
      name: `ws: fan-out latency p50 (${rate} msg/s to ${tabs} tabs, ${connections} idle held)`,
      value: p(app, 50),
      unit: 'ms',
      baseline: p(bare, 50),
      ratio: round(p(app, 50) / p(bare, 50)),
      target: '≤ 50 ms',
      pass: p(app, 50) <= 50,
    },
    {
      name: `ws: fan-out latency p99 (${rate} msg/s to ${tabs} tabs, ${connections} idle held)`,
      value: p(app, 99),
      unit: 'ms',
      baseline: p(bare, 99),
      ratio: round(p(app, 99) / p(bare, 99)),
      target: '≤ 250 ms',
      pass: p(app, 99) <= 250,
    },
  ];
}

if (require.main === module) {
  if (process.argv.includes('--bare-server')) runBareServer();
  else runStandalone(runRealtimeBench);
}
