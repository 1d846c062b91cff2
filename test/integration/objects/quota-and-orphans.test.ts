import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startTestApp, type TestApp } from '../../support/app';
import { listProduct, openStore } from '../../support/catalogue';
import { waitForLog } from '../../support/logger';
import { pngBytes, upload } from '../../support/objects';
import { registerUser } from '../../support/users';

/*
 * Every upload is recorded against its owner: a user cannot store more than UPLOAD_QUOTA_BYTES
 * (refused uploads leave neither bytes nor a row), and uploads nothing references are deleted
 * by a periodic job once OBJECT_ORPHAN_GRACE_HOURS have passed.
 */

const QUOTA = 10_000;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { OBJECT_STORAGE_DRIVER: 'local', UPLOAD_QUOTA_BYTES: String(QUOTA), OBJECT_ORPHAN_GRACE_HOURS: '24' } });
});
afterAll(() => t.close());

/** Every regular file under DATA_DIR/objects (bytes, metadata and temp files alike). */
function storedFiles(): string[] {
  const root = path.join(t.config.DATA_DIR, 'objects');
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(path.join(root, f)).isFile());
}
const rowsOf = async (ownerId: string) =>
  (await t.database.pool.query('SELECT key, size FROM objects WHERE owner_id = $1 ORDER BY created_at', [ownerId])).rows;
/** Where the local driver keeps an object's bytes. */
const fileOfKey = (key: string) =>
  key.startsWith('public/')
    ? path.join(t.config.DATA_DIR, 'objects', 'marketplace-public', key)
    : path.join(t.config.DATA_DIR, 'objects', 'marketplace-private', key);

describe('upload quota', () => {
  it('when an upload would take the user past UPLOAD_QUOTA_BYTES, then it is 413 upload_quota_exceeded and nothing is stored', async () => {
    const user = await registerUser(t.request);
    await upload(t, user, pngBytes(6_000)).expect(201);
    const filesBefore = storedFiles();
    expect(await rowsOf(user.id)).toEqual([expect.objectContaining({ size: '6000' })]);

    const refused = await upload(t, user, pngBytes(6_000)).expect(413);
    expect(refused.body.error).toMatchObject({ code: 'upload_quota_exceeded', details: { quotaBytes: QUOTA, usedBytes: 6_000 } });
    expect(storedFiles()).toEqual(filesBefore);
    expect(await rowsOf(user.id)).toHaveLength(1);

    // What is left still fits; then the quota is spent and even a tiny file is refused.
    await upload(t, user, pngBytes(4_000)).expect(201);
    expect((await upload(t, user, pngBytes(100)).expect(413)).body.error.code).toBe('upload_quota_exceeded');
    expect(await rowsOf(user.id)).toHaveLength(2);

    // Another user's quota is their own.
    const other = await registerUser(t.request);
    await upload(t, other, pngBytes(6_000)).expect(201);
  });

  it('when two uploads race for the last free space, then exactly one is stored', async () => {
    const user = await registerUser(t.request);
    const filesBefore = storedFiles().length;
    const results = await Promise.all([upload(t, user, pngBytes(6_000)), upload(t, user, pngBytes(6_000))]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 413]);
    expect(await rowsOf(user.id)).toHaveLength(1);
    // One object: its bytes and its metadata file.
    expect(storedFiles().length).toBe(filesBefore + 2);
  });
});

describe('orphan sweep', () => {
  it('when the job runs, unreferenced public uploads past the grace period are deleted; referenced, fresh and private ones are kept', async () => {
    const vendor = await openStore(t.request);
    const keyOf = async (visibility: string) => (await upload(t, vendor, pngBytes(500), { visibility }).expect(201)).body.key as string;
    const [attached, oldOrphan, freshOrphan, oldPrivate] = [
      await keyOf('public'),
      await keyOf('public'),
      await keyOf('public'),
      await keyOf('private'),
    ];
    await listProduct(t.request, vendor, { imageKeys: [attached] });
    await t.database.pool.query(`UPDATE objects SET created_at = now() - interval '25 hours' WHERE key = ANY($1)`, [
      [attached, oldOrphan, oldPrivate],
    ]);

    await t.app.jobs.sendNow('objects-sweep-orphans');
    await waitForLog(t.logs, /orphan sweep deleted 1 unreferenced/);

    const remaining = (await rowsOf(vendor.id)).map((r) => r.key).sort();
    expect(remaining).toEqual([attached, freshOrphan, oldPrivate].sort());
    expect(existsSync(fileOfKey(oldOrphan))).toBe(false);
    // The owner's own file: bounded by the quota, never swept.
    expect(existsSync(fileOfKey(oldPrivate))).toBe(true);
    expect(existsSync(fileOfKey(attached))).toBe(true);
    expect(existsSync(fileOfKey(freshOrphan))).toBe(true);
    await t.request.get(`/objects/${oldOrphan}`).expect(404);
    await t.request.get(`/objects/${attached}`).expect(200);
    await t.request.get(`/objects/${freshOrphan}`).expect(200);
    // The freed bytes no longer count against the quota.
    const used = await t.database.pool.query('SELECT sum(size)::int AS n FROM objects WHERE owner_id = $1', [vendor.id]);
    expect(used.rows[0].n).toBe(1_500);
  });
});
