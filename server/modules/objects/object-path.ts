import { AppError } from '../../lib/errors';

/** Where objects of one visibility live: a bucket and a name prefix inside it (`/bucket/prefix`). */
export interface ObjectLocation {
  bucket: string;
  /** Name prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
}

export type Visibility = 'public' | 'private';

// GCS caps object names at 1024 bytes; a segment longer than 255 bytes cannot be a local file name.
const MAX_NAME_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

/** Parses a configured `/bucket/path` (already shape-checked by the config schema). */
export function parseLocation(configured: string): ObjectLocation {
  const [bucket, ...rest] = configured.split('/').filter(Boolean);
  if (!bucket) throw new Error(`not a /bucket/path: ${configured}`);
  return { bucket, prefix: rest.join('/') };
}

export function objectName(location: ObjectLocation, relative: string): string {
  return location.prefix ? `${location.prefix}/${relative}` : relative;
}

export const invalidObjectPath = (reason: string) => new AppError(400, 'invalid_object_path', `Invalid object path: ${reason}`);

/**
 * Turns the still-encoded remainder of a URL (`a/b%20c.png`) into a safe relative object name.
 * Each segment is decoded on its own, so an encoded slash can never create a new segment; any
 * segment that could walk out of the prefix (`.`, `..`), smuggle a separator (`/`, `\`), end a C
 * string (NUL) or make the name absolute (an empty segment, as in `//etc`) is refused before any
 * storage driver sees it.
 */
export function parseObjectPath(rawRemainder: string): string {
  if (rawRemainder.length === 0) throw invalidObjectPath('empty');
  const segments = rawRemainder.split('/').map((raw) => {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw invalidObjectPath('malformed percent-encoding');
    }
    if (segment === '' || segment === '.' || segment === '..') throw invalidObjectPath('empty or relative segment');
    if (/[/\\]/.test(segment)) throw invalidObjectPath('separator inside a segment');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(segment)) throw invalidObjectPath('control character');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw invalidObjectPath('segment too long');
    return segment;
  });
  const name = segments.join('/');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw invalidObjectPath('too long');
  return name;
}

/** A key as handed out by uploads: `public/<name>` or `private/<name>`. */
export interface ObjectKey {
  visibility: Visibility;
  relative: string;
}

/** Parses an upload key (as stored by other modules); undefined when it is not one. */
export function parseObjectKey(key: string): ObjectKey | undefined {
  const match = /^(public|private)\/(.+)$/.exec(key);
  if (!match) return undefined;
  try {
    // Keys are plain (unencoded) names; encode each segment so the URL parser sees what a URL would carry.
    const relative = parseObjectPath(match[2]!.split('/').map(encodeURIComponent).join('/'));
    return { visibility: match[1] as Visibility, relative };
  } catch {
    return undefined;
  }
}

export const keyOf = (visibility: Visibility, relative: string) => `${visibility}/${relative}`;

/** The download URL of a key (each segment percent-encoded). */
export const urlOf = (visibility: Visibility, relative: string) =>
  `/objects/${visibility}/${relative.split('/').map(encodeURIComponent).join('/')}`;
