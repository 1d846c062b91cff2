import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from './conditional-get';
import type { StorageDriver, StoredObject, WriteRequest } from './storage-driver';

/*
 * Files under `<root>/<bucket>/<name>`, metadata in a parallel tree `<root>/.meta/<bucket>/<name>.json`
 * (bucket names cannot start with a dot, so neither `.meta` nor `.tmp` can be reached as a bucket).
 * Uploads land in `.tmp` first and are renamed into place once complete: a failed upload leaves nothing.
 */

const SIDECAR_CACHE_ENTRIES = 10_000;

interface Sidecar {
  size: number;
  contentType: string;
  md5: string;
  owner?: string;
  updated: string;
}

export function createLocalDriver(root: string): StorageDriver {
  const base = path.resolve(root);
  const tmpDir = path.join(base, '.tmp');

  /** The file of an object; refuses (as not found) anything resolving outside its bucket directory. */
  const fileOf = (tree: string, bucket: string, name: string, suffix = '') => {
    const bucketDir = path.join(base, tree, bucket);
    const file = path.resolve(bucketDir, ...name.split('/')) + suffix;
    if (!file.startsWith(bucketDir + path.sep)) throw Object.assign(new Error('path escapes its bucket'), { code: 'ENOENT' });
    return file;
  };
  const dataFile = (bucket: string, name: string) => fileOf('', bucket, name);
  // Saves a file read per download; bounded, oldest entries go first.
  const sidecars = new Map<string, { identity: string; meta: Sidecar }>();
  const remember = (file: string, entry: { identity: string; meta: Sidecar }) => {
    if (sidecars.size >= SIDECAR_CACHE_ENTRIES) sidecars.delete(sidecars.keys().next().value!);
    sidecars.set(file, entry);
  };
  const metaFile = (bucket: string, name: string) => fileOf('.meta', bucket, name, '.json');

  const toObject = (bucket: string, name: string, meta: Sidecar): StoredObject => ({
    bucket,
    name,
    size: meta.size,
    contentType: meta.contentType,
    etag: `"${meta.md5}"`,
    updated: new Date(meta.updated),
    owner: meta.owner,
  });

  return {
    kind: 'local',

    async stat(bucket, name) {
      try {
        const file = dataFile(bucket, name);
        const stat = await fsp.stat(file);
        if (!stat.isFile()) return undefined;
        // Objects never change in place, so a sidecar stays valid while the data file is the same file.
        const identity = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
        const cached = sidecars.get(file);
        let meta = cached?.identity === identity ? cached.meta : undefined;
        if (!meta) {
          meta = JSON.parse(await fsp.readFile(metaFile(bucket, name), 'utf8')) as Sidecar;
          // A file without matching metadata is not a (complete) object.
          if (stat.size !== meta.size) return undefined;
          remember(file, { identity, meta });
        }
        return toObject(bucket, name, meta);
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    createReadStream(object: StoredObject, range?: ByteRange) {
      return fs.createReadStream(dataFile(object.bucket, object.name), range ? { start: range.start, end: range.end } : {});
    },

    async write({ bucket, name, contentType, owner, source }: WriteRequest) {
      const target = dataFile(bucket, name);
      const targetMeta = metaFile(bucket, name);
      await fsp.mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, randomUUID());
      const md5 = createHash('md5');
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      const sink = fs.createWriteStream(tmp, { flags: 'wx' });
      try {
        await pipeline(source, measure, sink);
        const meta: Sidecar = { size, contentType, md5: md5.digest('hex'), owner, updated: new Date().toISOString() };
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await fsp.mkdir(path.dirname(targetMeta), { recursive: true });
        await fsp.writeFile(`${tmp}.json`, JSON.stringify(meta));
        await fsp.rename(tmp, target);
        await fsp.rename(`${tmp}.json`, targetMeta);
        return toObject(bucket, name, meta);
      } catch (error) {
        // A file stream destroyed while still opening creates its file afterwards: removing it
        // before the stream has closed would leave it behind.
        if (!sink.closed) await new Promise<void>((closed) => sink.once('close', () => closed()));
        await Promise.all([fsp.rm(tmp, { force: true }), fsp.rm(`${tmp}.json`, { force: true })]);
        throw error;
      }
    },

    async remove(bucket, name) {
      sidecars.delete(dataFile(bucket, name));
      await Promise.all([fsp.rm(dataFile(bucket, name), { force: true }), fsp.rm(metaFile(bucket, name), { force: true })]);
    },
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'EISDIR';
}
