import path from 'node:path';
import type { RequestHandler } from 'express';
import { Storage } from '@google-cloud/storage';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { AppModule, ModuleContext } from '../../lib/module';
import { routerFor } from '../../lib/http/register-routes';
import { createGcsDriver } from './gcs-driver';
import { createLocalDriver } from './local-driver';
import { parseLocation, parseObjectKey } from './object-path';
import { downloadRoutes, uploadRoutes } from './objects.routes';
import { createObjectsService, type ObjectLedger, type ObjectsService } from './objects.service';
import type { StorageDriver } from './storage-driver';

export type { StorageDriver } from './storage-driver';

export interface ObjectsModule extends AppModule {
  /** Whether `key` (as returned by an upload) names an existing public object; product images attach by key. */
  publicObjectExists(key: string): Promise<boolean>;
  /** Deletes uploads nothing references once past OBJECT_ORPHAN_GRACE_HOURS (the periodic job); returns how many. */
  sweepOrphans(): Promise<number>;
}

export interface ObjectsOptions {
  /** A ready GCS client (tests point one at a local server); built from config when omitted. */
  storage?: Storage;
  /**
   * Which of these keys another module still uses (product images, …), asked through their public
   * API; objects never reads their tables. Without it every upload counts as used and none is swept.
   */
  referencedKeys?: (keys: readonly string[]) => Promise<readonly string[]>;
}

/** True when `key` has the shape of a public object key (`public/<name>`), without asking storage. */
export function isPublicObjectKey(key: string): boolean {
  return parseObjectKey(key)?.visibility === 'public';
}

/** The driver the config asks for: files under DATA_DIR/objects, or GCS through the official SDK. */
export function createStorageDriver(config: Config, options: ObjectsOptions = {}): StorageDriver {
  if (config.OBJECT_STORAGE_DRIVER === 'gcs') {
    const storage =
      options.storage ??
      new Storage({
        ...(config.GCS_API_ENDPOINT ? { apiEndpoint: config.GCS_API_ENDPOINT } : {}),
        ...(config.GCS_PROJECT_ID ? { projectId: config.GCS_PROJECT_ID } : {}),
        // No SDK `timeout`: it counts a whole upload, which lasts as long as the client sends. The driver
        // puts GCS_TIMEOUT_MS where a request waits on GCS (a lookup, a read's first byte, the answer to an upload).
        // A request is waiting: a couple of quick retries, never the default 10-minute budget.
        retryOptions: { autoRetry: true, maxRetries: 2, maxRetryDelay: 1, totalTimeout: Math.ceil(config.GCS_TIMEOUT_MS / 1000) },
      });
    return createGcsDriver(storage, { timeoutMs: config.GCS_TIMEOUT_MS });
  }
  return createLocalDriver(path.join(config.DATA_DIR, 'objects'));
}

/** The object service without the database-backed parts (downloads need no database; used by the bench). */
export function createObjectsServiceFor(
  config: Config,
  logger: Logger,
  driver = createStorageDriver(config),
  ledger?: ObjectLedger,
): ObjectsService {
  return createObjectsService({
    driver,
    publicLocations: config.PUBLIC_OBJECT_SEARCH_PATHS.map(parseLocation),
    privateLocation: parseLocation(config.PRIVATE_OBJECT_DIR),
    maxUploadBytes: config.UPLOAD_MAX_BYTES,
    logger,
    ledger,
  });
}

/** A router serving only the downloads, anonymously (`/objects/public/<path>`; the bench compares it with express.static). */
export function objectDownloads(service: ObjectsService): RequestHandler {
  // No rate limit: the baseline (express.static) has none either.
  const routes = downloadRoutes(service).map((route) => ({ ...route, limit: [] }));
  return routerFor(routes, { limiters: {}, identify: (_req, _res, next) => next(), callerOf: () => undefined });
}

export function createObjectsModule(context: ModuleContext, options: ObjectsOptions = {}): ObjectsModule {
  const { config, logger, database, clock } = context;
  const driver = createStorageDriver(config, options);
  const service = createObjectsServiceFor(config, logger, driver, {
    database,
    quotaBytes: config.UPLOAD_QUOTA_BYTES,
    orphanGraceMs: config.OBJECT_ORPHAN_GRACE_HOURS * 3_600_000,
    referencedKeys: options.referencedKeys ?? (async (keys) => keys),
  });

  return {
    name: 'objects',
    routes: [...uploadRoutes(service), ...downloadRoutes(service)],
    health: () => ({ status: 'ok', driver: driver.kind }),
    publicObjectExists: (key) => service.publicObjectExists(key),
    sweepOrphans: () => service.sweepOrphans(new Date(clock.now())),
  };
}
