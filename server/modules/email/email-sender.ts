import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Db } from '../../db';
import type { Clock } from '../../lib/clock';
import { describeError, type QueuedJob } from '../../lib/job-queue';
import type { Logger } from '../../lib/logger';
import { type EmailTransport, permanentRejection } from './email-transport';
import { claimForSending, findOutboxEmail, markFailed, markSent, recordAttemptError } from './outbox.repository';

export interface SendEmailJob {
  outboxId: string;
}

export interface EmailSender {
  /** The job handler: sends one outbox mail, records the outcome; throws to have the job retried. */
  handle(job: QueuedJob<SendEmailJob>): Promise<void>;
  readonly stats: { sent: number; failedAttempts: number; givenUp: number; acceptedUnrecorded: number };
}

/*
 * Exactly-once as far as this process can make it:
 * - a worker claims the row before calling the provider (one conditional UPDATE) and holds it
 *   for a lease that outlives the provider timeout: a second job for the same mail (a retry
 *   after pg-boss gave up waiting, a job queued again by the stranded-mail sweep, another
 *   instance) finds it held and waits, or finds it `sent`/given up and does nothing;
 * - when the provider accepted a mail but writing `sent` failed, the message id is kept here
 *   and recording is retried (cockatiel, then on every retry of the job) without calling the
 *   provider again.
 * What remains at-least-once: the process dying (or the job's retry landing on another
 * instance) between the provider's accept and a successful record. Then the record still says
 * pending and the mail is sent a second time. Closing that needs the provider to dedupe on a key
 * of ours, which Brevo's transactional API does not offer.
 */
export function createEmailSender(options: {
  db: Db;
  transport: EmailTransport;
  logger: Logger;
  clock: Clock;
  giveUpAfterSeconds: number;
  /** How long a claim holds a mail: longer than a send (provider timeout) plus its record. */
  claimSeconds: number;
}): EmailSender {
  const { db, transport, logger, clock, giveUpAfterSeconds, claimSeconds } = options;
  const accepted = new Map<string, { kind: string; messageId: string | undefined }>();
  const stats = { sent: 0, failedAttempts: 0, givenUp: 0, acceptedUnrecorded: 0 };
  const recording = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1_000 }) });

  async function record(outboxId: string, messageId: string | undefined): Promise<void> {
    try {
      await recording.execute(() => markSent(db, outboxId, messageId));
    } finally {
      stats.acceptedUnrecorded = accepted.size;
    }
    accepted.delete(outboxId);
    stats.acceptedUnrecorded = accepted.size;
  }

  async function giveUp(outboxId: string, kind: string, reason: string): Promise<void> {
    await markFailed(db, outboxId, reason);
    stats.givenUp++;
    logger.error(`[EMAIL] Giving up on ${kind} mail ${outboxId}: ${reason}`);
  }

  return {
    stats,
    async handle(job) {
      const { outboxId } = job.data;
      const earlier = accepted.get(outboxId);
      if (earlier) {
        // The provider has it already: only the record is missing.
        await record(outboxId, earlier.messageId);
        stats.sent++;
        logger.info(`[EMAIL] Sent ${earlier.kind} mail ${outboxId} via ${transport.name} (recorded on a retry, provider not called again)`);
        return;
      }
      const mail = await claimForSending(db, outboxId, claimSeconds);
      if (!mail) {
        const current = await findOutboxEmail(db, outboxId);
        // Gone, sent, or given up (a redrive sends a fresh job): nothing to do.
        if (current?.status !== 'pending') return;
        // Another worker is sending it right now: try again once its claim has run out.
        throw new Error(`mail ${outboxId} is held by another worker until ${current.claimedUntil?.toISOString()}`);
      }
      const attempt = mail.attempts;
      let messageId: string | undefined;
      try {
        ({ messageId } = await transport.send(mail));
      } catch (error) {
        stats.failedAttempts++;
        const message = (error as Error)?.message ?? String(error);
        const permanent = permanentRejection(error);
        if (permanent) return giveUp(outboxId, mail.kind, permanent);
        const ageSeconds = Math.round((clock.now() - job.createdOn.getTime()) / 1000);
        if (ageSeconds >= giveUpAfterSeconds)
          return giveUp(outboxId, mail.kind, `still failing ${ageSeconds} s after it was queued: ${message}`);
        await recordAttemptError(db, outboxId, message);
        logger.warn(`[EMAIL] ${mail.kind} mail ${outboxId} attempt ${attempt} failed (${message}); pg-boss retries it`);
        throw error;
      }
      accepted.set(outboxId, { kind: mail.kind, messageId });
      stats.acceptedUnrecorded = accepted.size;
      try {
        await record(outboxId, messageId);
      } catch (error) {
        logger.error(
          `[EMAIL] ${mail.kind} mail ${outboxId} was accepted (${messageId ?? 'no id'}) but recording it failed; retrying the record only: ${describeError(error)}`,
        );
        throw error;
      }
      stats.sent++;
      logger.info(`[EMAIL] Sent ${mail.kind} mail ${outboxId} via ${transport.name} (attempt ${attempt})`);
    },
  };
}
