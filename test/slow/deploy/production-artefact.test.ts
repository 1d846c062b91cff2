import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { CRYPTO_ONLY_PRODUCTION_ENV } from '../../support/production-env';
import { pollUntil, type ServerProcess, spawnServer } from '../../support/server-process';

/*
 * What the Dockerfile does, without Docker (no daemon here): build, copy dist/ + package*.json +
 * migrations/ to a clean directory, install production dependencies only, run the migrate
 * command against an empty database, then start the server the way the image's CMD does and
 * probe it the way its HEALTHCHECK does.
 */
const root = path.resolve(__dirname, '../../..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

/** The JSON-array form of a Dockerfile instruction (`CMD [...]`, `HEALTHCHECK ... CMD [...]`), joined across `\` lines. */
function execForm(instruction: 'CMD' | 'HEALTHCHECK'): string[] {
  const text = dockerfile.replace(/\\\n\s*/g, ' ');
  const line = text.split('\n').find((l) => l.startsWith(`${instruction} `));
  const json = line && /CMD (\[.*\])\s*$/.exec(line)?.[1];
  if (!json) throw new Error(`no exec-form ${instruction} in the Dockerfile`);
  return JSON.parse(json) as string[];
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${output}`);
  return output;
}

let app: string;
let database: TestDatabase;
let server: ServerProcess | undefined;
beforeAll(() => {
  app = mkdtempSync(path.join(os.tmpdir(), 'mp-artefact-'));
});
afterAll(async () => {
  server?.kill('SIGKILL');
  await database?.drop();
  rmSync(app, { recursive: true, force: true });
});

it('built, installed with --omit=dev, migrated by npm run db:migrate:prod and started with NODE_ENV=production, it becomes ready', async () => {
  // Build stage.
  run('npm', ['run', 'build', '--', '--outDir', path.join(app, 'dist')], root, process.env, 180_000);
  // Runtime stage: the files the Dockerfile copies, and production dependencies only.
  for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(root, file), path.join(app, file));
  cpSync(path.join(root, 'migrations'), path.join(app, 'migrations'), { recursive: true });
  expect(dockerfile).toMatch(/^COPY migrations migrations$/m);
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], app, process.env, 300_000);
  expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
  expect(existsSync(path.join(app, 'node_modules', 'argon2'))).toBe(true);

  database = await createTestDatabase({ empty: true });
  const dataDir = path.join(app, '.data');
  mkdirSync(dataDir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...CRYPTO_ONLY_PRODUCTION_ENV,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    MIGRATE_ON_START: 'false',
    SHUTDOWN_DRAIN_DELAY_MS: '0',
  };

  // The documented migration command, with no dev dependency (tsx) installed.
  const migrated = run('npm', ['run', 'db:migrate:prod'], app, env, 120_000);
  expect(migrated).toMatch(/node dist\/scripts\/migrate\.js/);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const tables = await client.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('users', 'orders', 'session_store')`,
    );
    expect(tables.rows[0].n).toBe(3);
  } finally {
    await client.end();
  }

  const [command, ...args] = execForm('CMD');
  expect(command).toBe('node');
  server = await spawnServer(env, { entry: { args, cwd: app } });
  await pollUntil(`${server.url}/api/health/ready`, (status) => status === 200, 60_000);

  // The image's HEALTHCHECK, run as Docker would (its own process, PORT from the environment).
  const [probe, ...probeArgs] = execForm('HEALTHCHECK');
  expect(probe).toBe('node');
  const port = new URL(server.url).port;
  expect(spawnSync(process.execPath, probeArgs, { env: { ...env, PORT: port }, timeout: 10_000 }).status).toBe(0);
  expect(spawnSync(process.execPath, probeArgs, { env: { ...env, PORT: '9' }, timeout: 10_000 }).status).toBe(1);

  // A request's access line: pino JSON on stdout, written out by the shutdown's flush at the latest.
  await fetch(`${server.url}/api/products`, { headers: { 'X-Request-Id': 'artefact-1' } });
  server.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
  const access = server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('artefact-1'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(access).toEqual([
    expect.objectContaining({
      level: 'info',
      message: '[HTTP] request',
      method: 'GET',
      route: '/api/products',
      status: 200,
      requestId: 'artefact-1',
    }),
  ]);
});
