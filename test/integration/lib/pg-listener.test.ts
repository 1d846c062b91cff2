import { sql } from 'drizzle-orm';
import type { Database } from '../../../server/db';
import { createPgListener, type PgListener } from '../../../server/lib/pg-listener';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../../support/database';
import { captureLogger } from '../../support/logger';
import { type NeonRelay, startNeonRelay } from '../../support/neon-relay';

/**
 * Subscribes to `channel`: `listening` resolves once the connection LISTENs, `payload` with the
 * next payload (or rejects after `timeoutMs`).
 */
function nextPayload(listener: PgListener, channel: string, timeoutMs = 5_000): Promise<string> & { listening: Promise<void> } {
  let listening!: Promise<void>;
  const payload = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no notification on ${channel} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = listener.listen(channel, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
    listening = off.ready;
  });
  return Object.assign(payload, { listening });
}

describe('pg-listener', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  const { logger, memory } = captureLogger();
  const listeners: PgListener[] = [];

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    database = openTestDatabase(testDatabase.url, logger);
  });
  afterAll(async () => {
    for (const l of listeners) await l.stop();
    await database.close();
    await testDatabase.drop();
  });

  async function startListener(onReconnect?: () => void): Promise<PgListener> {
    const listener = createPgListener({ pool: database.pool, logger, label: 'TEST-LISTENER', initialBackoffMs: 50, onReconnect });
    listeners.push(listener);
    await listener.start();
    return listener;
  }

  it('delivers a published payload to the handlers of its channel only', async () => {
    const listener = await startListener();
    const other: string[] = [];
    listener.listen('other_channel', (p) => void other.push(p));
    const arriving = nextPayload(listener, 'test_channel');
    await arriving.listening;
    await listener.publish('test_channel', '{"id":"a"}');
    expect(await arriving).toBe('{"id":"a"}');
    expect(other).toEqual([]);
  });

  it('when published inside a transaction, delivers on commit and never for a rollback', async () => {
    const listener = await startListener();
    const seen: string[] = [];
    listener.listen('tx_channel', (p) => void seen.push(p));
    await database.db
      .transaction(async (tx) => {
        await listener.publish('tx_channel', 'rolled-back', tx);
        tx.rollback();
      })
      .catch(() => undefined);
    const committed = nextPayload(listener, 'tx_channel');
    await committed.listening;
    await database.db.transaction(async (tx) => {
      await listener.publish('tx_channel', 'committed', tx);
      await tx.execute(sql`SELECT 1`);
    });
    expect(await committed).toBe('committed');
    // The rolled-back notify would have been delivered before the committed one (same session order).
    expect(seen).toEqual(['committed']);
  });

  it('when its connection is terminated by the server, reconnects and a later notify still arrives', async () => {
    let reconnected!: () => void;
    const reconnectedPromise = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    const listener = await startListener(() => reconnected());
    const arrivedBefore = nextPayload(listener, 'blip_channel');
    await arrivedBefore.listening;
    await listener.publish('blip_channel', 'before');
    expect(await arrivedBefore).toBe('before');

    const killed = await database.pool.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'test-listener-listener'`,
    );
    expect(killed.rows.length).toBeGreaterThanOrEqual(1);
    await reconnectedPromise;
    expect(listener.stats().reconnects).toBeGreaterThanOrEqual(1);

    const arrivedAfter = nextPayload(listener, 'blip_channel');
    await arrivedAfter.listening;
    await listener.publish('blip_channel', 'after');
    expect(await arrivedAfter).toBe('after');
    expect(memory.lines().some((l) => l.includes('[TEST-LISTENER] Listener connection lost'))).toBe(true);
  });

  it('refuses channel names that could break out of the LISTEN statement', async () => {
    const listener = await startListener();
    expect(() => listener.listen('bad"; DROP TABLE users; --', () => undefined)).toThrow(/Invalid channel/);
    await expect(listener.publish('Bad-Name', 'x')).rejects.toThrow(/Invalid channel/);
  });
});

describe('pg-listener on the Neon serverless Pool (through a local WebSocket relay)', () => {
  let relay: NeonRelay;
  let testDatabase: TestDatabase;
  let database: Database;
  let listener: PgListener | undefined;
  const { logger } = captureLogger();

  beforeAll(async () => {
    relay = await startNeonRelay();
    testDatabase = await createTestDatabase();
    database = openTestDatabase(testDatabase.url, logger, { driver: 'neon', neonWsProxy: relay.proxy });
  });
  afterAll(async () => {
    await listener?.stop();
    await database.close();
    await relay.close();
    await testDatabase.drop();
  });

  it('receives a notify published inside a Drizzle transaction on the Neon driver', async () => {
    expect(database.driver).toBe('neon');
    listener = createPgListener({ pool: database.pool, logger, label: 'NEON-LISTENER' });
    await listener.start();
    expect(listener.isConnected()).toBe(true);
    const arriving = nextPayload(listener, 'neon_channel');
    await arriving.listening;
    await database.db.transaction((tx) => listener!.publish('neon_channel', 'over-neon', tx));
    expect(await arriving).toBe('over-neon');
  });
});
