import type { Db } from '../../db';
import type { Logger } from '../../lib/logger';
import type { EmailTransport } from './email-transport';
import { claimDueEmails, markFailed, markSent, scheduleRetry } from './outbox.repository';

export interface OutboxSenderOptions {
  db: Db;
  transport: EmailTransport;
  logger: Logger;
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  batchSize?: number;
}

export interface OutboxSender {
  /** Look for due mail now (after a commit that enqueued some) instead of at the next poll. */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
  readonly sent: number;
  readonly failedAttempts: number;
}

/** 2^(attempt-1) × base, capped at an hour, ±20 % jitter so a recovered provider is not stampeded. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  const raw = Math.min(baseMs * 2 ** (attempt - 1), 60 * 60 * 1000);
  return raw * (0.8 + Math.random() * 0.4);
}

/**
 * Drains the outbox: claims due rows, hands each to the transport, records the outcome. A
 * provider outage only pushes `next_attempt_at` out; the request that caused the mail has long
 * been answered. The claim lease outlives the send timeout, so a mail is never sent by two
 * senders at once; a crash between the provider's accept and our "sent" mark is the only path
 * to a duplicate, and it needs the process to die in that window.
 */
export function createOutboxSender(options: OutboxSenderOptions): OutboxSender {
  const { db, transport, logger, pollMs, maxAttempts, retryBaseMs, batchSize = 20 } = options;
  const leaseMs = 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let sent = 0;
  let failedAttempts = 0;

  async function drain(): Promise<void> {
    for (;;) {
      const batch = await claimDueEmails(db, batchSize, leaseMs);
      for (const mail of batch) {
        try {
          const { messageId } = await transport.send(mail);
          await markSent(db, mail.id, messageId);
          sent++;
          logger.info(`[EMAIL] Sent ${mail.kind} mail ${mail.id} via ${transport.name} (attempt ${mail.attempts})`);
        } catch (error) {
          failedAttempts++;
          const message = (error as Error).message ?? String(error);
          if (mail.attempts >= maxAttempts) {
            await markFailed(db, mail.id, message);
            logger.error(`[EMAIL] Giving up on ${mail.kind} mail ${mail.id} after ${mail.attempts} attempts: ${message}`);
          } else {
            const delay = retryDelayMs(mail.attempts, retryBaseMs);
            await scheduleRetry(db, mail.id, delay, message);
            logger.warn(`[EMAIL] ${mail.kind} mail ${mail.id} attempt ${mail.attempts}/${maxAttempts} failed (${message}); retry in ${Math.round(delay)} ms`);
          }
        }
      }
      if (batch.length < batchSize) return;
    }
  }

  function schedule(ms: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error) => {
        logger.warn(`[EMAIL] Outbox pass failed (database unavailable?): ${(error as Error).message}`);
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(pollMs);
      });
  }

  return {
    kick: () => schedule(0),
    start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    get sent() {
      return sent;
    },
    get failedAttempts() {
      return failedAttempts;
    },
  };
}
