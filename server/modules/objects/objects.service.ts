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

export interface ObjectsServiceDeps {
  driver: StorageDriver;
  /** Searched in order for public objects; uploads go to the first. */
  publicLocations: readonly ObjectLocation[];
  privateLocation: ObjectLocation;
  maxUploadBytes: number;
  logger: Logger;
}

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
      const options = { field: 'file', maxBytes: deps.maxUploadBytes, headBytes: SNIFF_BYTES };
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
        return { object, relative };
      }).catch((error: unknown) => {
        // Refusals (4xx) are the client's business; anything else is a storage outage.
        if (!(error instanceof AppError)) throw unavailable('upload', error);
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
