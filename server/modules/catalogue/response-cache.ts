import NodeCache from 'node-cache';
import type { ProductFilters } from './catalogue.repository';

/** Where a product sits for list filtering: enough to tell which cached lists it can appear in. */
export interface ProductFacet {
  vendorId: string;
  category: string | null;
  priceCents: number;
}

/**
 * What a write changed, in a form small and plain enough to broadcast to other instances
 * (JSON over NOTIFY): ids and list facets, never cached bodies.
 */
export type CacheInvalidation = { kind: 'product'; productId: string; facets: ProductFacet[] } | { kind: 'vendor'; vendorId: string };

interface Entry {
  json: string;
  /** For lists: the filters that produced it and the product ids it holds. */
  filters?: Omit<ProductFilters, 'limit' | 'sort'>;
  ids?: string[];
}

/** What a cached list page remembers to decide, on a write, whether it went stale. */
export interface ListEntry {
  filters: NonNullable<Entry['filters']>;
  ids: string[];
}

export interface CacheStats {
  hits: number;
  misses: number;
  keys: number;
  invalidations: number;
}

function listCouldContain(filters: NonNullable<Entry['filters']>, facet: ProductFacet): boolean {
  // Full-text matching happens in Postgres; any list with `q` is assumed to be affected.
  if (filters.q) return true;
  if (filters.category !== undefined && filters.category !== facet.category) return false;
  if (filters.vendorId !== undefined && filters.vendorId !== facet.vendorId) return false;
  if (filters.minPrice !== undefined && facet.priceCents < filters.minPrice) return false;
  if (filters.maxPrice !== undefined && facet.priceCents > filters.maxPrice) return false;
  return true;
}

/**
 * Response cache for catalogue reads. Invalidation is precise: a product write drops its own
 * detail, every cached list page that holds it, and every list whose filters it matches before
 * or after the change (so it can newly appear there); lists elsewhere keep serving.
 */
export class ResponseCache {
  private readonly cache: NodeCache;
  private hits = 0;
  private misses = 0;
  private invalidations = 0;

  constructor(ttlSeconds: number, maxKeys = 10_000) {
    // Bodies are stored as JSON strings: immutable, so no cloning is needed on the way out.
    this.cache = new NodeCache({ stdTTL: ttlSeconds, checkperiod: Math.max(60, ttlSeconds), useClones: false, maxKeys });
  }

  get(key: string): string | undefined {
    const entry = this.cache.get<Entry>(key);
    if (entry) this.hits++;
    else this.misses++;
    return entry?.json;
  }

  set(key: string, json: string, list?: ListEntry): void {
    try {
      this.cache.set<Entry>(key, { json, filters: list?.filters, ids: list?.ids });
    } catch {
      // Full (maxKeys): serve uncached rather than grow without bound.
    }
  }

  /** Drops what an invalidation (local or from another instance) made stale. */
  apply(invalidation: CacheInvalidation): void {
    this.invalidations++;
    if (invalidation.kind === 'vendor') {
      this.cache.del(vendorKey(invalidation.vendorId));
      return;
    }
    const stale = [productKey(invalidation.productId)];
    for (const key of this.cache.keys()) {
      if (!key.startsWith('list:')) continue;
      const entry = this.cache.get<Entry>(key);
      if (!entry?.filters) continue;
      if (entry.ids?.includes(invalidation.productId) || invalidation.facets.some((f) => listCouldContain(entry.filters!, f)))
        stale.push(key);
    }
    this.cache.del(stale);
  }

  /** Drops everything (e.g. after missing broadcasts while disconnected). */
  flush(): void {
    this.cache.flushAll();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, keys: this.cache.keys().length, invalidations: this.invalidations };
  }

  close(): void {
    this.cache.close();
  }
}

export const productKey = (id: string) => `product:${id}`;
export const vendorKey = (id: string) => `vendor:${id}`;
export function listKey(filters: ProductFilters, cursor: string | undefined): string {
  const { q, category, vendorId, minPrice, maxPrice, sort, limit } = filters;
  return `list:${JSON.stringify([q ?? null, category ?? null, vendorId ?? null, minPrice ?? null, maxPrice ?? null, sort, limit, cursor ?? null])}`;
}
