import type { Readable } from 'node:stream';
import { serviceUnavailable } from '../../lib/errors';
import type { ByteRange } from './conditional-get';

/** What a download needs to know about an object before reading a byte of it. */
export interface StoredObject {
  bucket: string;
  name: string;
  size: number;
  contentType: string;
  /** Strong validator derived from the bytes (quoted, e.g. `"9e107d9d372bb6826bd81d3542a419d6"`). */
  etag: string;
  updated: Date;
  /** User id of the uploader (private objects are served to this user only). */
  owner?: string;
  /** Driver-specific version marker, so a read returns the bytes that were stat'ed. */
  generation?: string;
}

export interface WriteRequest {
  bucket: string;
  name: string;
  contentType: string;
  owner: string;
  /** The bytes; it may fail mid-way (too large, client gone), and then nothing must be left behind. */
  source: Readable;
}

/**
 * One storage interface, two drivers (local files, Google Cloud Storage). Names are already
 * validated relative names (see object-path.ts); drivers still refuse anything that would leave
 * the bucket.
 */
export interface StorageDriver {
  readonly kind: 'local' | 'gcs';
  stat(bucket: string, name: string): Promise<StoredObject | undefined>;
  /** Streams the object (or the inclusive byte range); destroying the stream releases the upstream. */
  createReadStream(object: StoredObject, range?: ByteRange): Readable;
  /** Stores the bytes atomically: the object exists in full when this resolves, not at all when it rejects. */
  write(request: WriteRequest): Promise<StoredObject>;
  remove(bucket: string, name: string): Promise<void>;
}

export const storageUnavailable = () => serviceUnavailable('storage_unavailable', 'Object storage is temporarily unavailable', 5);
