import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileMetadata, Storage } from '@google-cloud/storage';
import { DeadlineExceeded, withDeadline } from '../../lib/deadline';
import type { ByteRange } from './conditional-get';
import type { StorageDriver, StoredObject, WriteRequest } from './storage-driver';

/*
 * Google Cloud Storage through the official SDK. Metadata comes from the object resource (size,
 * updated, md5Hash, generation, contentType; the owner in custom metadata). Reads are pinned to the
 * generation that was stat'ed and push the byte range down to GCS.
 *
 * `timeoutMs` bounds what a request waits on GCS: a lookup (with the SDK's retries) and the first
 * byte of a read. A hung GCS then becomes a 503, never a request that never ends.
 */
export function createGcsDriver(storage: Storage, { timeoutMs }: { timeoutMs: number }): StorageDriver {
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
        // The SDK's per-request timeout does not bound its retries; this does.
        const [metadata] = await withDeadline(timeoutMs, () => storage.bucket(bucket).file(name).getMetadata());
        return toObject(bucket, name, metadata);
      } catch (error) {
        if ((error as { code?: unknown }).code === 404) return undefined;
        throw error;
      }
    },

    createReadStream(object: StoredObject, range?: ByteRange): Readable {
      const file = storage.bucket(object.bucket).file(object.name, object.generation ? { generation: object.generation } : {});
      const stream = file.createReadStream(range ? { start: range.start, end: range.end } : {});
      // Until GCS answers, nothing has been sent to the client: fail then, and the download is a 503.
      // Once it answers, the bytes may take as long as the object is large.
      const timer = setTimeout(() => stream.destroy(new DeadlineExceeded(timeoutMs)), timeoutMs);
      const settle = () => clearTimeout(timer);
      stream.once('response', settle).once('close', settle).once('error', settle);
      return stream;
    },

    async write({ bucket, name, contentType, owner, source }: WriteRequest) {
      const file = storage.bucket(bucket).file(name);
      const sink = file.createWriteStream({
        // A single streamed multipart request: nothing is buffered, and an aborted request creates no object.
        resumable: false,
        contentType,
        metadata: { contentType, metadata: { owner } },
        // Never overwrite: names are fresh, so an existing object means something is wrong.
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      // An upload lasts as long as the client sends, so no deadline can cover all of it; GCS's answer
      // must come within timeoutMs of the last byte handed over.
      let timer: NodeJS.Timeout | undefined;
      source.once('end', () => {
        timer = setTimeout(() => sink.destroy(new DeadlineExceeded(timeoutMs)), timeoutMs);
      });
      try {
        await pipeline(source, sink);
      } catch (error) {
        // Belt and braces: if the bytes did arrive before the failure, do not leave them behind. When GCS is what hangs,
        // the client does not wait for that cleanup too (it is still bounded, and best effort).
        const cleanup = withDeadline(timeoutMs, () => file.delete({ ignoreNotFound: true })).catch(() => undefined);
        if (!(error instanceof DeadlineExceeded)) await cleanup;
        throw error;
      } finally {
        clearTimeout(timer);
      }
      return toObject(bucket, name, file.metadata);
    },

    async remove(bucket, name) {
      await storage.bucket(bucket).file(name).delete({ ignoreNotFound: true });
    },
  };
}
