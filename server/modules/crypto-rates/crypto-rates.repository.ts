import { sql } from 'drizzle-orm';
import { cryptoRates } from '../../../shared/schema/crypto-rates';
import type { DbOrTx } from '../../db';

export interface StoredRate {
  symbol: string;
  vsCurrency: string;
  price: number;
  source: string;
  fetchedAt: Date;
}

export async function loadStoredRates(db: DbOrTx): Promise<StoredRate[]> {
  return db.select().from(cryptoRates);
}

/** Upserts the last good value per pair; an older value never overwrites a newer one (several instances write). */
export async function saveRates(db: DbOrTx, rows: StoredRate[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(cryptoRates)
    .values(rows)
    .onConflictDoUpdate({
      target: [cryptoRates.symbol, cryptoRates.vsCurrency],
      set: { price: sql`excluded.price`, source: sql`excluded.source`, fetchedAt: sql`excluded.fetched_at` },
      setWhere: sql`excluded.fetched_at >= ${cryptoRates.fetchedAt}`,
    });
}
