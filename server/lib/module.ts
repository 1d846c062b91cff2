import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Database } from '../db';
import type { Clock } from './clock';
import type { Config } from './config';
import type { Route } from './http/define-route';
import type { Logger } from './logger';

/** What every capability module is built from (handed out by createApp). */
export interface ModuleContext {
  config: Config;
  logger: Logger;
  database: Database;
  clock: Clock;
  metrics: Registry;
}

export type ComponentStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: ComponentStatus;
  [detail: string]: unknown;
}

/**
 * What a capability gives the composition root. `createApp` registers every module's routes,
 * `/api/health` asks every module for its health, shutdown calls `beginShutdown` on all
 * modules before the HTTP drain and `stop` after it.
 */
export interface AppModule {
  name: string;
  /** The module's HTTP routes, each one declaration (lib/http/define-route.ts). */
  routes?: readonly Route[];
  health?(): ComponentHealth | Promise<ComponentHealth>;
  /** A reason this module cannot serve yet (e.g. its table is not initialised), or undefined when ready. */
  notReadyReason?(): string | undefined;
  start?(): void | Promise<void>;
  /** Receives the HTTP server once it exists (e.g. to accept WebSocket upgrades). */
  attach?(server: Server): void;
  beginShutdown?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}
