import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { UploadResult } from '../../../shared/contracts';
import { AppError, notFound } from '../../lib/errors';
import { storageUnavailable } from './storage-driver';
import type { Logger } from '../../lib/logger';
import { cacheControlFor } from './cache-policy';
import { SNIFF_BYTES, sniffAllowedType, ALLOWED_CONTENT_TYPES } from './content-sniff';
import { receiveSingleFile } from './multipart-upload';
import { keyOf, type ObjectLocation, objectName, parseObjectKey, urlOf, type Visibility } from './object-path';
import type { StorageDriver, StoredObject } from './storage-driver';
import type { Database } from '../../db';
import { deleteRecord, findSweepCandidates, markChecked, recordWithinQuota, storedBytesOf } from './objects.repository';

export interface ObjectsServiceDeps {
  driver: StorageDriver;
  /** Searched in order for public objects; uploads go to the first. */
  publicLocations: readonly ObjectLocation[];
  privateLocation: ObjectLocation;
  maxUploadBytes: number;
  logger: Logger;
  /** Where uploads are recorded (per-user quota, orphan sweep); absent for a download-only service (the bench). */
  ledger?: ObjectLedger;
}

export interface ObjectLedger {
  database: Database;
  quotaBytes: number;
  /** How long an upload may stay unreferenced before the sweep deletes it. */
  orphanGraceMs: number;
  /** Which of these keys something (a product, …) still uses; asked of their owners through their public API. */
  referencedKeys(keys: readonly string[]): Promise<readonly string[]>;
}

// Rows the sweep examines per round (one question to the referencing modules each).
const SWEEP_BATCH = 200;

const quotaExceeded = (quotaBytes: number, usedBytes: number) =>
  new AppError(
    413,
    'upload_quota_exceeded',
    `This upload would take your stored files past your quota of ${quotaBytes} bytes`,
    { quotaBytes, usedBytes },
    // The body may not have been read: the connection cannot carry another request.
    { Connection: 'close' },
  );

export interface Viewer {
  id: string;
}

export type ObjectsService = ReturnType<typeof createObjectsService>;

export function createObjectsService(deps: ObjectsServiceDeps) {
  const { driver, publicLocations, privateLocation, logger } = deps;

  async function findPublic(relative: string): Promise<StoredObject | undefined> {
    for (const location of publicLocations) {
      const found = await driver.stat(location.bucket, objectName(location, relative));
      if (found) return found;
    }
    return undefined;
  }

  async function findPrivate(relative: string, viewer: Viewer | undefined): Promise<StoredObject | undefined> {
    const found = await driver.stat(privateLocation.bucket, objectName(privateLocation, relative));
    // Someone else's private object is indistinguishable from a missing one.
    return found && viewer && found.owner === viewer.id ? found : undefined;
  }

  /**
   * Records a stored upload against its owner's quota; when it does not fit (a concurrent upload
   * took the space) or cannot be recorded, the bytes are removed again: nothing stays unaccounted.
   */
  async function recordUpload(ledger: ObjectLedger, uploader: Viewer, key: string, object: StoredObject): Promise<void> {
    const row = { key, bucket: object.bucket, name: object.name, ownerId: uploader.id, size: object.size };
    let fits: boolean;
    try {
      fits = await ledger.database.transaction((unit) => recordWithinQuota(unit.tx, row, ledger.quotaBytes));
    } catch (error) {
      await driver.remove(object.bucket, object.name).catch(() => undefined);
      throw unavailable('recording an upload', error);
    }
    if (!fits) {
      await driver.remove(object.bucket, object.name);
      throw quotaExceeded(ledger.quotaBytes, await storedBytesOf(ledger.database.db, uploader.id));
    }
  }

  /** A storage failure is an outage to retry later, not a bug in the request. */
  function unavailable(during: string, error: unknown): AppError {
    logger.warn(`[OBJECTS] ${driver.kind} storage failed during ${during}: ${(error as Error)?.message}`);
    return storageUnavailable();
  }

  return {
    driver,

    /** The object a download URL names, as this viewer may see it; 404 otherwise. */
    async locate(visibility: Visibility, relative: string, viewer: Viewer | undefined) {
      const object = await (visibility === 'public' ? findPublic(relative) : findPrivate(relative, viewer)).catch((error: unknown) => {
        throw unavailable('lookup', error);
      });
      if (!object) throw notFound('Object');
      return { object, cacheControl: cacheControlFor(object.contentType, visibility === 'private') };
    },

    /**
     * Streams the request's `file` part into storage: sniff the first bytes, refuse what is not
     * allowed (415), then stream the rest under the size limit (413); nothing is left behind on failure.
     */
    async upload(req: IncomingMessage, uploader: Viewer, visibility: Visibility): Promise<UploadResult> {
      const location = visibility === 'public' ? publicLocations[0]! : privateLocation;
      const { ledger } = deps;
      // The file may take at most what is left of the quota: past it, busboy stops reading, as for the size limit.
      const usedBytes = ledger ? await storedBytesOf(ledger.database.db, uploader.id) : 0;
      const leftBytes = ledger ? ledger.quotaBytes - usedBytes : Number.POSITIVE_INFINITY;
      if (ledger && leftBytes <= 0) throw quotaExceeded(ledger.quotaBytes, usedBytes);
      const quotaBound = ledger !== undefined && leftBytes < deps.maxUploadBytes;
      const maxBytes = Math.min(deps.maxUploadBytes, leftBytes);
      const options = { field: 'file', maxBytes, headBytes: SNIFF_BYTES };
      const stored = await receiveSingleFile(req, options, async (file) => {
        const type = await sniffAllowedType(file.head);
        if (!type) {
          file.discard();
          throw new AppError(415, 'unsupported_file_type', 'This kind of file cannot be uploaded', { allowed: ALLOWED_CONTENT_TYPES });
        }
        const relative = `${randomUUID()}.${type.ext}`;
        const object = await driver.write({
          bucket: location.bucket,
          name: objectName(location, relative),
          contentType: type.mime,
          owner: uploader.id,
          source: file.source,
        });
        if (ledger) await recordUpload(ledger, uploader, keyOf(visibility, relative), object);
        return { object, relative };
      }).catch((caught: unknown) => {
        // Refusals (4xx) are the client's business; anything else is a storage outage.
        if (!(caught instanceof AppError)) throw unavailable('upload', caught);
        const error = quotaBound && caught.code === 'payload_too_large' ? quotaExceeded(ledger.quotaBytes, usedBytes) : caught;
        logger.info(`[OBJECTS] upload not stored: ${error.code}`, { userId: uploader.id });
        throw error;
      });
      logger.info(`[OBJECTS] stored ${visibility} object ${stored.relative} (${stored.object.size} bytes, ${stored.object.contentType})`, {
        userId: uploader.id,
      });
      return {
        key: keyOf(visibility, stored.relative),
        url: urlOf(visibility, stored.relative),
        contentType: stored.object.contentType,
        size: stored.object.size,
      };
    },

    /**
     * Deletes uploads that nothing references once they are older than the grace period; the
     * ones still referenced are looked at again only a grace period later. Stops at the first
     * storage failure (the rest wait for the next run). Returns how many were deleted.
     */
    async sweepOrphans(now: Date): Promise<number> {
      const { ledger } = deps;
      if (!ledger) return 0;
      const cutoff = new Date(now.getTime() - ledger.orphanGraceMs);
      let deleted = 0;
      let more = true;
      while (more) {
        const candidates = await findSweepCandidates(ledger.database.db, cutoff, SWEEP_BATCH);
        const inUse = new Set(candidates.length > 0 ? await ledger.referencedKeys(candidates.map((c) => c.key)) : []);
        await markChecked(ledger.database.db, [...inUse], now);
        more = candidates.length === SWEEP_BATCH;
        for (const orphan of candidates.filter((c) => !inUse.has(c.key))) {
          try {
            await driver.remove(orphan.bucket, orphan.name);
          } catch (error) {
            logger.warn(`[OBJECTS] orphan sweep stopped: ${driver.kind} storage failed: ${(error as Error)?.message}`);
            more = false;
            break;
          }
          await deleteRecord(ledger.database.db, orphan.key);
          deleted++;
        }
      }
      if (deleted > 0) logger.info(`[OBJECTS] orphan sweep deleted ${deleted} unreferenced upload(s)`);
      return deleted;
    },

    /** Whether a key handed out by an upload names an existing public object (product images attach by key). */
    async publicObjectExists(key: string): Promise<boolean> {
      const parsed = parseObjectKey(key);
      if (parsed?.visibility !== 'public') return false;
      // Asked while listing a product: storage being down is a 503 for the vendor to retry, not a 500.
      const found = await findPublic(parsed.relative).catch((error: unknown) => {
        throw unavailable('image lookup', error);
      });
      return found !== undefined;
    },
  };
}
