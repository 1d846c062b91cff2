import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { DbOrTx, UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { PgListener } from '../../lib/pg-listener';
import { findImageKeysInUse, findLiveProductPrices, findVendorByUserId, findVendorsByIds } from './catalogue.repository';
import { catalogueRoutes } from './catalogue.routes';
import { type CatalogueDeps, planStockReservation, releaseStock, type StockLine, type StockReservationPlan } from './catalogue.service';
import { type CacheInvalidation, ResponseCache } from './response-cache';
import { setVendorSuspended, type VendorStanding } from './stores.service';

export { productListQuery } from './catalogue.repository';
export type { ReservationRow } from './catalogue.repository';
export type { StockLine, StockReservationPlan } from './catalogue.service';
export { findVendorStanding, type VendorStanding } from './stores.service';

export interface VendorSummary {
  id: string;
  userId: string;
  storeName: string;
}

/** The store a user runs, if any (e.g. to let a vendor read the orders of its products). */
export async function findVendorIdOfUser(db: DbOrTx, userId: string): Promise<string | undefined> {
  return (await findVendorByUserId(db, userId))?.id;
}

export async function findVendorSummaries(db: DbOrTx, vendorIds: readonly string[]): Promise<VendorSummary[]> {
  return (await findVendorsByIds(db, vendorIds)).map(({ id, userId, storeName }) => ({ id, userId, storeName }));
}

export interface ProductPrice {
  productId: string;
  priceCents: number;
  currency: string;
}

/**
 * The current price of each live product, read without locking (an order is priced before any
 * stock is reserved); products that do not exist or were removed are missing from the answer.
 */
export async function findProductPrices(db: DbOrTx, productIds: readonly string[]): Promise<ProductPrice[]> {
  return (await findLiveProductPrices(db, productIds)).map(({ id, priceCents, currency }) => ({ productId: id, priceCents, currency }));
}

/** Which of these object keys a live product shows as an image (the rest are no product's). */
export async function findReferencedImageKeys(db: DbOrTx, keys: readonly string[]): Promise<string[]> {
  return findImageKeysInUse(db, keys);
}

export interface CatalogueModule extends AppModule {
  /**
   * Plans taking the units of an order inside the caller's unit of work, as CTEs the caller's
   * statement builds on (the order is written in the same round trip); `settle` reads the outcome:
   * 404 `product_not_found` or 409 `insufficient_stock` (rolling the caller back) when a line
   * cannot be served.
   */
  planStockReservation(unit: UnitOfWork, lines: readonly StockLine[]): StockReservationPlan;
  /** Puts units back (cancel, expiry) inside the caller's unit of work. */
  releaseStock(unit: UnitOfWork, lines: readonly StockLine[]): Promise<void>;
  /**
   * Suspends or reinstates a store inside the caller's unit of work: sets vendors.suspended_at and
   * copies it to every product of the store; once the unit commits, every instance drops the
   * cached answers that could show the store or its products. undefined: no such store.
   * Idempotent (before equals after when nothing changes).
   */
  setVendorSuspended(
    unit: UnitOfWork,
    vendorId: string,
    suspended: boolean,
    at: Date,
  ): Promise<{ before: VendorStanding; after: VendorStanding } | undefined>;
}

export interface CatalogueOptions {
  imageExists?: CatalogueDeps['imageExists'];
  /** Shared LISTEN/NOTIFY connection: invalidations are broadcast to, and received from, other instances. */
  listener?: PgListener;
}

const INVALIDATION_CHANNEL = 'catalogue_cache_invalidation';
// pg_notify payloads are limited to 8000 bytes; a big order's invalidations go in several.
const INVALIDATIONS_PER_NOTIFY = 40;

export function createCatalogueModule(context: ModuleContext, options: CatalogueOptions = {}): CatalogueModule {
  const cache = new ResponseCache({
    ttlSeconds: context.config.CACHE_TTL_SECONDS,
    maxEntries: context.config.CACHE_MAX_ENTRIES,
    maxBytes: context.config.CACHE_MAX_MB * 1024 * 1024,
  });
  const { listener } = options;
  // Each instance ignores its own broadcasts (it applies them itself right after COMMIT).
  const instanceId = randomUUID();
  const deps: CatalogueDeps = {
    database: context.database,
    cache,
    imageBaseUrl: context.config.PUBLIC_BASE_URL,
    imageExists: options.imageExists,
    async invalidate(unit, invalidations) {
      const { channel, payloads } = deps.invalidateWithin(unit, invalidations);
      // Sent through the business transaction: other instances hear it exactly when it commits.
      for (const payload of payloads) await listener!.publish(channel, payload, unit.tx);
    },
    invalidateWithin(unit, invalidations) {
      const payloads: string[] = [];
      if (invalidations.length === 0) return { channel: INVALIDATION_CHANNEL, payloads };
      if (listener) {
        for (let i = 0; i < invalidations.length; i += INVALIDATIONS_PER_NOTIFY) {
          const batch = invalidations.slice(i, i + INVALIDATIONS_PER_NOTIFY);
          payloads.push(JSON.stringify({ from: instanceId, invalidations: batch }));
        }
      }
      unit.afterCommit(() => {
        for (const invalidation of invalidations) cache.apply(invalidation);
      });
      return { channel: INVALIDATION_CHANNEL, payloads };
    },
  };
  new Gauge({
    name: 'marketplace_cache_keys',
    help: 'Entries in the catalogue response cache',
    registers: [context.metrics],
    collect() {
      this.set(cache.stats().keys);
    },
  });
  new Counter({
    name: 'marketplace_cache_lookups_total',
    help: 'Catalogue response cache lookups by result',
    labelNames: ['result'],
    registers: [context.metrics],
    // Reads the cache's own counters at scrape time, so the hot path pays nothing.
    collect() {
      const { hits, misses } = cache.stats();
      this.reset();
      this.inc({ result: 'hit' }, hits);
      this.inc({ result: 'miss' }, misses);
    },
  });
  if (listener) {
    listener.listen(INVALIDATION_CHANNEL, (payload) => {
      const message = JSON.parse(payload) as { from: string; invalidations: CacheInvalidation[] };
      if (message.from !== instanceId) for (const invalidation of message.invalidations) cache.apply(invalidation);
    });
    // Invalidations sent while the listener was reconnecting were missed: start over.
    listener.onReconnect(() => cache.flush());
  }

  return {
    name: 'catalogue',
    routes: catalogueRoutes(deps, {
      maxAgeSeconds: context.config.CATALOGUE_CACHE_MAX_AGE_S,
      staleWhileRevalidateSeconds: context.config.CATALOGUE_CACHE_SWR_S,
    }),
    health: () => ({ status: 'ok', cache: cache.stats() }),
    planStockReservation: (unit, lines) => planStockReservation(deps, unit, lines),
    releaseStock: (unit, lines) => releaseStock(deps, unit, lines),
    setVendorSuspended: (unit, vendorId, suspended, at) => setVendorSuspended(deps, unit, vendorId, suspended, at),
    stop() {
      cache.close();
    },
  };
}
