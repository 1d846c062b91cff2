import { z } from 'zod';
import type { Logger } from '../../lib/logger';

/** What travels through NOTIFY: ids only; every instance reads the row itself. */
export const FanoutPayload = z.object({ id: z.uuid(), users: z.array(z.uuid()).min(1).max(2) });
export type FanoutPayload = z.infer<typeof FanoutPayload>;

export interface FanoutOptions<Row> {
  label: string;
  logger: Logger;
  /** Whether this instance has anyone to deliver to (skips the read when nobody is connected here). */
  wanted(users: readonly string[]): boolean;
  load(ids: string[]): Promise<Row[]>;
  deliver(row: Row): void;
}

/**
 * Turns NOTIFY payloads into deliveries. Reads are batched (ids that arrive while a read is in
 * flight go into the next one) and delivered in arrival order, so a burst of messages costs a
 * few queries and a conversation never arrives shuffled.
 */
export function createFanout<Row>(options: FanoutOptions<Row>): (payload: string) => Promise<void> {
  const pending: string[] = [];
  let draining: Promise<void> = Promise.resolve();
  let running = false;

  const drain = async () => {
    running = true;
    try {
      while (pending.length > 0) {
        const ids = pending.splice(0, 500);
        try {
          for (const row of await options.load(ids)) options.deliver(row);
        } catch (error) {
          options.logger.error(`[WS] ${options.label} fan-out of ${ids.length} rows failed: ${(error as Error).message}`);
        }
      }
    } finally {
      // Cleared in the same tick as the last emptiness check: an id pushed later starts a new drain.
      running = false;
    }
  };

  return (payload) => {
    let parsed: FanoutPayload;
    try {
      parsed = FanoutPayload.parse(JSON.parse(payload));
    } catch {
      options.logger.warn(`[WS] Ignored a malformed ${options.label} notification`);
      return Promise.resolve();
    }
    if (!options.wanted(parsed.users)) return Promise.resolve();
    pending.push(parsed.id);
    if (!running) draining = drain();
    return draining;
  };
}
