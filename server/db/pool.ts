import { Pool as NeonPool, neonConfig } from '@neondatabase/serverless';
import pg from 'pg';
import ws from 'ws';

export type DriverName = 'pg' | 'neon';

export interface PoolSettings {
  connectionString: string;
  driver: 'auto' | DriverName;
  max: number;
  min: number;
  idleTimeoutMillis: number;
  connectionTimeoutMillis: number;
  maxUses: number;
  statementTimeoutMillis: number;
  /**
   * How long the client waits for any answer to a query before giving up on the connection.
   * statement_timeout is the server's own verdict; this one still holds when the server (or the
   * path to it) is frozen and answers nothing at all. 0 or absent: wait forever (migrations).
   */
  queryTimeoutMillis?: number;
  applicationName: string;
  /** Local WebSocket-to-TCP relay for the Neon driver (tests, local development). */
  neonWsProxy?: string;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Neon's driver for `*.neon.tech` hosts (or when asked), node-postgres for any other Postgres. */
export function chooseDriver(connectionString: string, requested: PoolSettings['driver']): DriverName {
  if (requested !== 'auto') return requested;
  const host = new URL(connectionString).hostname;
  return host.endsWith('.neon.tech') ? 'neon' : 'pg';
}

const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

let neonConfigured = false;

/*
 * neonConfig is process-wide in @neondatabase/serverless: it is set once, on the first Neon pool.
 * Without a proxy the driver speaks to Neon's own WebSocket endpoint over TLS.
 */
function configureNeon(proxy: string | undefined): void {
  if (neonConfigured) return;
  neonConfigured = true;
  neonConfig.webSocketConstructor = ws;
  if (proxy) {
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
}

/**
 * A tuned pool. Both drivers expose node-postgres's Pool API (Neon's is a fork of it), so the
 * rest of the code sees one type.
 */
export function createPool(settings: PoolSettings): { pool: pg.Pool; driver: DriverName } {
  const driver = chooseDriver(settings.connectionString, settings.driver);
  const options: pg.PoolConfig = {
    connectionString: settings.connectionString,
    max: settings.max,
    min: settings.min,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    maxUses: settings.maxUses,
    statement_timeout: settings.statementTimeoutMillis,
    ...(settings.queryTimeoutMillis ? { query_timeout: settings.queryTimeoutMillis } : {}),
    // A peer that vanished without a FIN or RST (a crashed host, a dropped NAT entry) is noticed
    // by the kernel's probes instead of holding the connection open for hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    application_name: settings.applicationName,
    allowExitOnIdle: false,
  };
  if (driver === 'neon') {
    configureNeon(settings.neonWsProxy);
    return { pool: new NeonPool(options as ConstructorParameters<typeof NeonPool>[0]) as unknown as pg.Pool, driver };
  }
  return { pool: new pg.Pool(options), driver };
}

export function readPoolStats(pool: pg.Pool): PoolStats {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
