import { LRUCache } from 'lru-cache';
import { ProductListQuery } from '../../../shared/contracts';
import type { StoredBody } from '../../lib/http/stored-body';
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
 * - `product`: a product changed; with facets (created, edited, removed) it may also move
 *   between lists, and category counts change; without (stock) only what holds it is stale.
 * - `vendor`: a store's product count changed (its page, and the store list pages holding it).
 * - `store`: the store itself changed (opened, renamed, new logo): its page and every store
 *   list page (names sort and match there); with `products` (suspended, reinstated) its products
 *   appear or vanish too: their details, every product list that could hold them, categories.
 */
export type CacheInvalidation =
  | { kind: 'product'; productId: string; facets: ProductFacet[] }
  | { kind: 'vendor'; vendorId: string }
  | { kind: 'store'; vendorId: string; products: boolean };

interface Entry {
  body: StoredBody;
  /** For product lists: the filters that produced it. */
  filters?: Omit<ProductFilters, 'limit' | 'sort'>;
  /** For lists: the ids (products, or stores) it holds. */
  ids?: string[];
  /** For a product's detail: its store (a suspension drops it). */
  vendorId?: string;
}

/** What a cached list page remembers to decide, on a write, whether it went stale. */
export interface ListEntry {
  /** Product lists only. */
  filters?: NonNullable<Entry['filters']>;
  ids: string[];
}

/** What a cached answer remembers beyond its bytes. */
export interface EntryScope {
  list?: ListEntry;
  vendorId?: string;
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

export interface CacheLimits {
  ttlSeconds: number;
  /** Bounds the work of an invalidation, which looks at every cached list. */
  maxEntries: number;
  /** Bounds memory: list pages of 100 products weigh tens of kilobytes each. */
  maxBytes: number;
}

/**
 * Response cache for catalogue reads. Invalidation is precise: a product write drops its own
 * detail, every cached list page that holds it, and every list whose filters it matches before
 * or after the change (so it can newly appear there); lists elsewhere keep serving.
 *
 * Full, it evicts the least recently used entry: anyone can ask for any number of distinct
 * list URLs, and a cache that refused new keys once full would stop caching for everyone.
 */
// A UUID string (~56 bytes in V8), its slot in the page's id array and its entry in the index.
const BYTES_PER_INDEXED_ID = 128;

export class ResponseCache {
  private readonly cache: LRUCache<string, Entry>;
  private readonly loading = new Map<string, { startedAt: number; body: Promise<StoredBody> }>();
  /**
   * Product id → keys of the cached list pages holding it. A stock change (every order line) asks
   * for these; scanning every page's ids instead cost ~170 ms per product with a full cache of
   * 100-item pages, which anyone can fill.
   */
  private readonly listsHolding = new Map<string, Set<string>>();
  private hits = 0;
  private misses = 0;
  private invalidations = 0;
  /** Bumped by every invalidation and flush: a load that saw it change may hold stale rows. */
  private changes = 0;

  constructor({ ttlSeconds, maxEntries, maxBytes }: CacheLimits) {
    // Bodies are stored serialised (and compressed): immutable bytes, sent as they are.
    this.cache = new LRUCache<string, Entry>({
      max: maxEntries,
      maxSize: maxBytes,
      // The stored bytes (plain and compressed); a list page's product ids (and their place in
      // the index) weigh too: a page of 100 ids is ~13 KB.
      sizeCalculation: (entry) => Math.max(1, entry.body.size + (entry.ids?.length ?? 0) * BYTES_PER_INDEXED_ID),
      ttl: ttlSeconds * 1000,
      // Called for every entry that leaves (evicted, expired, replaced, deleted, cleared).
      dispose: (entry, key) => this.unindex(key, entry),
    });
  }

  get(key: string): StoredBody | undefined {
    const entry = this.cache.get(key);
    if (entry) this.hits++;
    else this.misses++;
    return entry?.body;
  }

  /**
   * The cached answer, or one load shared by every concurrent miss of the key (after a deploy or
   * an invalidation, a burst of readers of a popular page would otherwise each run its query). A
   * miss joins only a load that started after the latest invalidation: one started before it may
   * hold the rows the invalidating write replaced, and is neither stored nor handed to newcomers.
   */
  async load(key: string, loader: () => Promise<{ body: StoredBody } & EntryScope>): Promise<{ body: StoredBody; hit: boolean }> {
    const cached = this.get(key);
    if (cached) return { body: cached, hit: true };
    const running = this.loading.get(key);
    if (running && running.startedAt === this.changes) return { body: await running.body, hit: false };
    const startedAt = this.changes;
    const body = loader().then((loaded) => {
      this.set(key, loaded.body, loaded.list, startedAt, loaded.vendorId);
      return loaded.body;
    });
    const entry = { startedAt, body };
    this.loading.set(key, entry);
    try {
      return { body: await body, hit: false };
    } finally {
      if (this.loading.get(key) === entry) this.loading.delete(key);
    }
  }

  /** A mark to take before loading what will be stored, and to hand to `set`. */
  loadStarted(): number {
    return this.changes;
  }

  /**
   * Stores a loaded answer, unless an invalidation came in since its load started (its rows
   * may predate the write the invalidation announced; the next read loads again).
   */
  set(key: string, body: StoredBody, list: ListEntry | undefined, loadStarted: number, vendorId?: string): void {
    if (loadStarted !== this.changes) return;
    // An entry larger than the whole budget is not stored (lru-cache refuses it).
    const entry: Entry = { body, filters: list?.filters, ids: list?.ids, vendorId };
    this.cache.set(key, entry);
    if (!entry.ids || this.cache.peek(key) !== entry) return;
    for (const id of entry.ids) {
      const keys = this.listsHolding.get(id);
      if (keys) keys.add(key);
      else this.listsHolding.set(id, new Set([key]));
    }
  }

  private unindex(key: string, entry: Entry): void {
    for (const id of entry.ids ?? []) {
      const keys = this.listsHolding.get(id);
      keys?.delete(key);
      if (keys?.size === 0) this.listsHolding.delete(id);
    }
  }

  /** Drops what an invalidation (local or from another instance) made stale. */
  apply(invalidation: CacheInvalidation): void {
    this.invalidations++;
    this.changes++;
    switch (invalidation.kind) {
      case 'vendor':
        this.drop([vendorKey(invalidation.vendorId), ...(this.listsHolding.get(invalidation.vendorId) ?? [])]);
        break;
      case 'store':
        this.dropStore(invalidation.vendorId, invalidation.products);
        break;
      case 'product':
        this.dropProduct(invalidation.productId, invalidation.facets);
        break;
      default:
        // A kind this version does not know (a newer instance sent it): only dropping everything is safe.
        this.cache.clear();
    }
  }

  private dropProduct(productId: string, facets: readonly ProductFacet[]): void {
    const stale = [productKey(productId), ...(this.listsHolding.get(productId) ?? [])];
    // Lists it may newly appear in, and the category counts; a stock change has no facets and needs no scan.
    // entries() neither refreshes recency nor yields expired entries.
    if (facets.length > 0) {
      stale.push(CATEGORIES_KEY);
      for (const [key, entry] of this.cache.entries()) {
        if (!key.startsWith('list:') || !entry.filters) continue;
        if (facets.some((f) => listCouldContain(entry.filters!, f))) stale.push(key);
      }
    }
    this.drop(stale);
  }

  // Rare (a store opened, edited, suspended): one pass over the cache is cheap enough.
  private dropStore(vendorId: string, withProducts: boolean): void {
    const stale = [vendorKey(vendorId)];
    if (withProducts) stale.push(CATEGORIES_KEY);
    for (const [key, entry] of this.cache.entries()) {
      if (key.startsWith(VENDOR_LIST_PREFIX)) stale.push(key);
      else if (!withProducts) continue;
      else if (entry.vendorId === vendorId) stale.push(key);
      else if (key.startsWith('list:') && (entry.filters?.vendorId ?? vendorId) === vendorId) stale.push(key);
    }
    this.drop(stale);
  }

  private drop(keys: readonly string[]): void {
    for (const key of keys) this.cache.delete(key);
  }

  /** Drops everything (e.g. after missing broadcasts while disconnected). */
  flush(): void {
    this.changes++;
    this.cache.clear();
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, keys: this.cache.size, invalidations: this.invalidations };
  }

  close(): void {
    this.cache.clear();
  }
}

export const productKey = (id: string) => `product:${id}`;
export const vendorKey = (id: string) => `vendor:${id}`;
export const CATEGORIES_KEY = 'categories';
const VENDOR_LIST_PREFIX = 'vendors:';

/** The cache key of a page of the store list (`q` already trimmed and lower-cased; the default limit left out). */
export function vendorListKey(filters: { q?: string; limit: number }, cursor: string | undefined): string {
  const params = new URLSearchParams();
  if (cursor !== undefined) params.append('cursor', cursor);
  if (filters.limit !== listDefaults.limit) params.append('limit', String(filters.limit));
  if (filters.q) params.append('q', filters.q);
  return `${VENDOR_LIST_PREFIX}${params}`;
}
/**
 * One spelling per distinct list: equivalent queries (`?q=Lamp` and `?q=lamp `, `minPrice=0`
 * and none) become the same filters, so they share one cache entry and run the same SQL.
 */
export function normaliseListFilters(filters: ProductFilters): ProductFilters {
  const { q, minPrice, ...rest } = filters;
  // websearch_to_tsquery('english', …) lowercases words and operators and ignores extra spaces.
  const words = q?.toLowerCase().replace(/\s+/g, ' ').trim();
  return {
    ...rest,
    ...(words ? { q: words } : {}),
    // Prices are never negative (a CHECK constraint), so a minimum of 0 filters nothing.
    ...(minPrice ? { minPrice } : {}),
  };
}

/** The parameters every list has when the URL leaves them out (the query schema's defaults). */
const listDefaults: Record<string, unknown> = ProductListQuery.parse({});

/**
 * The cache key of a list page: its filters (normalise them first) as sorted query parameters,
 * defaults left out, so `?sort=newest&limit=20`, `?limit=20&sort=newest` and `?` are one entry.
 */
export function listKey(filters: ProductFilters, cursor: string | undefined): string {
  const params = new URLSearchParams();
  const fields: Record<string, unknown> = { ...filters, cursor };
  for (const name of Object.keys(fields).sort()) {
    const value = fields[name];
    if (value !== undefined && value !== listDefaults[name]) params.append(name, String(value));
  }
  return `list:${params}`;
}
