/**
 * What the request preamble and its access line cost per request (winston against pino): an
 * Express hello-world with and without them, measured interleaved (A/B/A/B, several rounds) so machine drift hits every
 * variant alike; the median of each round's ratio is reported. Standalone:
 * `npx tsx bench/logging-cost.ts [rounds] [seconds per run]`.
 *
 * The servers run in a child process, so the load generator does not share their event loop.
 * Besides throughput it reports the server's CPU time per request (user + system, read in the
 * server process around each run): on a busy shared machine that moves far less than req/s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import autocannon from 'autocannon';
import express, { type Express } from 'express';
import winston from 'winston';
import { createLogger } from '../server/lib/logger';
import { type AccessLog, accessLogThroughLogger, createJsonAccessLog } from '../server/lib/access-log';
import { installRequestLogger, requestPreamble } from '../server/lib/request-context';

const CONNECTIONS = 10;
const BODY = { hello: 'world' };

type Variant = 'hello' | 'preamble, no access line' | 'preamble, winston line' | 'preamble, pino line';
const VARIANTS: Variant[] = ['hello', 'preamble, no access line', 'preamble, winston line', 'preamble, pino line'];

function helloApp(setup: (app: Express) => void = () => {}): Express {
  const app = express();
  app.set('x-powered-by', false);
  app.set('etag', false);
  setup(app);
  app.get('/', (_req, res) => {
    res.json(BODY);
  });
  return app;
}

// The production format (JSON) into a sink that discards it: the cost measured is ours, not the terminal's.
const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

function winstonLogger(level: 'info' | 'warn') {
  return createLogger({
    config: { NODE_ENV: 'production', LOG_LEVEL: level },
    transports: [new winston.transports.Stream({ stream: discard(), format: winston.format.json() })],
    console: false,
  });
}

/** The app's request preamble (request id, no security headers, access line as given). */
function withPreamble(accessLog: AccessLog | undefined) {
  return (app: Express) => {
    installRequestLogger(app, winstonLogger('info'));
    app.use(
      requestPreamble({
        headers: [],
        bodyTimeoutMs: 30_000,
        observe: () => {},
        accessLog,
        userIdOf: () => undefined,
        inFlight: new Set(),
        isShuttingDown: () => false,
      }),
    );
  };
}

function appOf(variant: Variant): Express {
  switch (variant) {
    case 'hello':
      return helloApp();
    case 'preamble, no access line':
      return helloApp(withPreamble(undefined));
    case 'preamble, winston line':
      return helloApp(withPreamble(accessLogThroughLogger(winstonLogger('info'))));
    case 'preamble, pino line':
      return helloApp(withPreamble(createJsonAccessLog({ level: 'info', destination: '/dev/null' })));
  }
}

async function serve(): Promise<void> {
  const ports: Record<string, number> = {};
  for (const variant of VARIANTS) {
    const server = appOf(variant).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    ports[variant] = (server.address() as AddressInfo).port;
  }
  process.send?.({ ports });
  // The parent asks for the CPU time used so far around each run.
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system });
  });
}

function startServers(): Promise<{ child: ChildProcess; ports: Record<Variant, number> }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, ports: (message as { ports: Record<Variant, number> }).ports }));
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
}

function serverCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve((message as { cpuMicros: number }).cpuMicros));
    child.send('cpu');
  });
}

interface Run {
  perSecond: number;
  cpuMicrosPerRequest: number;
}

async function measure(child: ChildProcess, port: number, seconds: number): Promise<Run> {
  const cpuBefore = await serverCpuMicros(child);
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds });
  const cpuAfter = await serverCpuMicros(child);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { perSecond: result.requests.total / seconds, cpuMicrosPerRequest: (cpuAfter - cpuBefore) / result.requests.total };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 3);
  const { child, ports } = await startServers();
  try {
    // Warm-up: JIT and keep-alive sockets, not measured.
    for (const variant of VARIANTS) await measure(child, ports[variant], 1);
    const runs = Object.fromEntries(VARIANTS.map((v) => [v, [] as Run[]])) as Record<Variant, Run[]>;
    for (let round = 0; round < rounds; round++) {
      // Alternate the order each round, so no variant always runs first or last.
      const order = round % 2 ? [...VARIANTS].reverse() : VARIANTS;
      for (const variant of order) runs[variant].push(await measure(child, ports[variant], seconds));
    }
    console.log(
      `${rounds} rounds × ${seconds} s, ${CONNECTIONS} connections; medians over rounds, ratios against hello-world in the same round`,
    );
    for (const variant of VARIANTS) {
      const ratios = runs[variant].map((run, i) => run.perSecond / runs.hello[i]!.perSecond);
      const extraCpu = runs[variant].map((run, i) => run.cpuMicrosPerRequest - runs.hello[i]!.cpuMicrosPerRequest);
      console.log(
        `${variant.padEnd(30)} ${Math.round(median(runs[variant].map((r) => r.perSecond)))
          .toString()
          .padStart(6)} req/s  ratio ${median(ratios).toFixed(2)}  ` +
          `server CPU ${median(runs[variant].map((r) => r.cpuMicrosPerRequest)).toFixed(1)} µs/req (+${median(extraCpu).toFixed(1)})  ` +
          `(ratio per round: ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
      );
    }
  } finally {
    child.kill();
  }
}

if (process.argv[2] === 'serve') void serve();
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
