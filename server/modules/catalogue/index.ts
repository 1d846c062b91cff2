import { randomUUID } from 'node:crypto';
import type { AppModule, ModuleContext } from '../../lib/module';
import type { PgListener } from '../../lib/pg-listener';
import { Counter, Gauge } from 'prom-client';
import { catalogueRoutes } from './catalogue.routes';
import type { CatalogueDeps } from './catalogue.service';
import { type CacheInvalidation, ResponseCache } from './response-cache';

export type { CacheInvalidation, ProductFacet } from './response-cache';
export { productListQuery } from './catalogue.repository';

export interface CatalogueModule extends AppModule {
  /** For writes made elsewhere (orders change stock): drops the cached answers that showed it. */
  productChanged(productId: string): void;
  /** Applies an invalidation broadcast by another instance. */
  applyRemoteInvalidation(invalidation: CacheInvalidation): void;
  /** Sets where local invalidations are broadcast (LISTEN/NOTIFY, wired by the composition root). */
  setInvalidationPublisher(publish: (invalidation: CacheInvalidation) => void): void;
}

export interface CatalogueOptions {
  imageExists?: CatalogueDeps['imageExists'];
  /** Shared LISTEN/NOTIFY connection: invalidations are broadcast to, and received from, other instances. */
  listener?: PgListener;
}

const INVALIDATION_CHANNEL = 'catalogue_cache_invalidation';

export function createCatalogueModule(context: ModuleContext, options: CatalogueOptions = {}): CatalogueModule {
  const cache = new ResponseCache(context.config.CACHE_TTL_SECONDS);
  const deps: CatalogueDeps = { db: context.database.db, cache, imageExists: options.imageExists };
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
  const { listener } = options;
  if (listener) {
    // Each instance ignores its own broadcasts (already applied locally before publishing).
    const instanceId = randomUUID();
    cache.setPublisher((invalidation) => {
      listener.publish(INVALIDATION_CHANNEL, JSON.stringify({ from: instanceId, invalidation })).catch((error: Error) => {
        // Other instances serve the stale answer until their TTL: logged, not fatal.
        context.logger.warn(`[CACHE] Could not broadcast an invalidation: ${error.message}`);
      });
    });
    listener.listen(INVALIDATION_CHANNEL, (payload) => {
      const message = JSON.parse(payload) as { from: string; invalidation: CacheInvalidation };
      if (message.from !== instanceId) cache.apply(message.invalidation);
    });
    // Invalidations sent while the listener was reconnecting were missed: start over.
    listener.onReconnect(() => cache.flush());
  }

  return {
    name: 'catalogue',
    routes: catalogueRoutes(deps),
    health: () => ({ status: 'ok', cache: cache.stats() }),
    productChanged(productId) {
      // Stock or state changed, not the list facets: lists holding it and its detail go.
      cache.invalidate({ kind: 'product', productId, facets: [] });
    },
    applyRemoteInvalidation: (invalidation) => cache.apply(invalidation),
    setInvalidationPublisher: (publish) => cache.setPublisher(publish),
    stop() {
      cache.close();
    },
  };
}
