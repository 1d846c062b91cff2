import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileMetadata, Storage } from '@google-cloud/storage';
import type { ByteRange } from './conditional-get';
import type { StorageDriver, StoredObject, WriteRequest } from './storage-driver';

/*
 * Google Cloud Storage through the official SDK. Metadata comes from the object resource (size,
 * updated, md5Hash, generation, contentType; the owner in custom metadata). Reads are pinned to the
 * generation that was stat'ed and push the byte range down to GCS.
 */
export function createGcsDriver(storage: Storage): StorageDriver {
  const toObject = (bucket: string, name: string, m: FileMetadata): StoredObject => {
    const md5 = m.md5Hash ? Buffer.from(m.md5Hash, 'base64').toString('hex') : undefined;
    return {
      bucket,
      name,
      size: Number(m.size ?? 0),
      contentType: m.contentType ?? 'application/octet-stream',
      // The MD5 of the bytes (same as the local driver's); composite objects have none, their generation is unique.
      etag: `"${md5 ?? `g${m.generation}`}"`,
      updated: new Date(m.updated ?? m.timeCreated ?? 0),
      owner: typeof m.metadata?.owner === 'string' ? m.metadata.owner : undefined,
      generation: m.generation === undefined ? undefined : String(m.generation),
    };
  };

  return {
    kind: 'gcs',

    async stat(bucket, name) {
      try {
        const [metadata] = await storage.bucket(bucket).file(name).getMetadata();
        return toObject(bucket, name, metadata);
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      }
    },

    createReadStream(object: StoredObject, range?: ByteRange): Readable {
      const file = storage.bucket(object.bucket).file(object.name, object.generation ? { generation: object.generation } : {});
      return file.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async write({ bucket, name, contentType, owner, source }: WriteRequest) {
      const file = storage.bucket(bucket).file(name);
      try {
        await pipeline(
          source,
          file.createWriteStream({
            // A single streamed multipart request: nothing is buffered, and an aborted request creates no object.
            resumable: false,
            contentType,
            metadata: { contentType, metadata: { owner } },
            // Never overwrite: names are fresh, so an existing object means something is wrong.
            preconditionOpts: { ifGenerationMatch: 0 },
          }),
        );
      } catch (error) {
        // Belt and braces: if the bytes did arrive before the failure, do not leave them behind.
        await file.delete({ ignoreNotFound: true }).catch(() => undefined);
        throw error;
      }
      return toObject(bucket, name, file.metadata);
    },

    async remove(bucket, name) {
      await storage.bucket(bucket).file(name).delete({ ignoreNotFound: true });
    },
  };
}
