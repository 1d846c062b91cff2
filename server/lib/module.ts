import type { Express } from 'express';

export type ComponentStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: ComponentStatus;
  [detail: string]: unknown;
}

/**
 * What a capability gives the composition root. `createApp` mounts the routes in order,
 * `/api/health` asks every module for its health, shutdown calls `beginShutdown` on all
 * modules before the HTTP drain and `stop` after it.
 */
export interface AppModule {
  name: string;
  mount?(app: Express): void;
  health?(): ComponentHealth | Promise<ComponentHealth>;
  /** A reason this module cannot serve yet (e.g. its table is not initialised), or undefined when ready. */
  notReadyReason?(): string | undefined;
  start?(): void | Promise<void>;
  beginShutdown?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}
