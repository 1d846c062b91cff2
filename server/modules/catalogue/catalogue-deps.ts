// What the catalogue's services are built on; createCatalogueModule (index.ts) supplies it.
import type { UnitOfWork, Database } from '../../db';
import type { Broadcast } from './catalogue.repository';
import type { CacheInvalidation, ResponseCache } from './response-cache';

export interface CatalogueDeps {
  database: Database;
  cache: ResponseCache;
  /** Image URLs are built on it (config PUBLIC_BASE_URL): clients on other origins and CDNs need absolute ones. */
  imageBaseUrl: string;
  /**
   * Records, inside the unit of work, that cached answers must go: other instances hear it
   * when (and only if) the transaction commits; this one drops them right after COMMIT.
   */
  invalidate(unit: UnitOfWork, invalidations: readonly CacheInvalidation[]): Promise<void>;
  /**
   * The same for a caller that sends the broadcast inside its own statement (a round trip
   * fewer): schedules this instance's drop after COMMIT and returns the NOTIFY to send.
   */
  invalidateWithin(unit: UnitOfWork, invalidations: readonly CacheInvalidation[]): Broadcast;
  /** Whether an uploaded public image exists (the objects capability answers); absent = not checked. */
  imageExists?: (key: string) => Promise<boolean>;
}
