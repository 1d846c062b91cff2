import { Gauge } from 'prom-client';
import type { TransactionRunner, UnitOfWork } from '../../db';
import type { JobQueue } from '../../lib/job-queue';
import type { AppModule, ModuleContext } from '../../lib/module';
import { createEmailSender, type SendEmailJob } from './email-sender';
import { createBrevoTransport, createLogTransport, type EmailTransport } from './email-transport';
import {
  countByStatus,
  findIdlePendingEmails,
  insertOutboxEmail,
  type OutgoingEmail,
  reopenFailedEmails,
  touchEmails,
} from './outbox.repository';

export { emailVerificationEmail, passwordChangedEmail, passwordResetEmail } from './account-emails';
export { orderConfirmationEmail, vendorNewOrderEmail, welcomeEmail } from './email-templates';
export { fulfilmentUpdateEmail } from './fulfilment-emails';
export type { OutgoingEmail } from './outbox.repository';

/** The job queue carrying one job per mail to send (`{ outboxId }`, keyed by the outbox id). */
export const EMAIL_QUEUE = 'email-send';
const STRANDED_BATCH = 500;

export interface EmailModule extends AppModule {
  /**
   * Records a mail in the outbox and queues its sending job, both inside the caller's unit of
   * work: they exist exactly when the event that caused them committed. A mail whose dedupe key
   * exists already is neither recorded nor queued again.
   */
  enqueue(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  /** Gives pending mails that have no job a fresh one (the periodic sweep calls the same); returns how many. */
  requeueStrandedEmail(): Promise<number>;
}

/** Queues every given-up mail again (status back to pending, a fresh job each); returns how many. */
export function redriveGivenUpEmail(database: TransactionRunner, jobs: Pick<JobQueue, 'send'>): Promise<number> {
  return database.transaction(async (unit) => {
    const ids = await reopenFailedEmails(unit.tx);
    for (const outboxId of ids) await jobs.send<SendEmailJob>(unit, EMAIL_QUEUE, { outboxId }, { key: outboxId });
    return ids.length;
  });
}

export function createEmailModule(context: ModuleContext, options: { jobs: JobQueue; transport?: EmailTransport }): EmailModule {
  const { config, logger, database, clock } = context;
  const { jobs } = options;
  const transport =
    options.transport ??
    (config.EMAIL_DRIVER === 'brevo'
      ? createBrevoTransport(config)
      : createLogTransport(logger, { withBody: config.NODE_ENV !== 'production' }));
  // The lease covers a send that runs into its timeout plus the record's retries.
  const leaseSeconds = 2 * config.EMAIL_SEND_TIMEOUT_S + 60;
  const sender = createEmailSender({
    db: database.db,
    transport,
    logger,
    clock,
    giveUpAfterSeconds: config.EMAIL_GIVE_UP_AFTER_S,
    claimSeconds: leaseSeconds,
  });
  jobs.work<SendEmailJob>(
    EMAIL_QUEUE,
    {
      concurrency: config.EMAIL_CONCURRENCY,
      expireInSeconds: leaseSeconds,
      retryDelaySeconds: config.EMAIL_RETRY_DELAY_S,
      retryBackoff: config.EMAIL_RETRY_BACKOFF,
      // The mail's age (EMAIL_GIVE_UP_AFTER_S) decides when to give up, never the attempt count.
      retryLimit: 1_000_000,
    },
    (job) => sender.handle(job),
  );
  /*
   * A pending mail whose job is gone is never sent by itself: mail queued by the poller of an
   * earlier release, a job archived by the queue, or one not queued because the queue was down
   * at the time (see enqueue). This sweep gives each such mail a fresh job.
   */
  async function requeueStrandedEmail(): Promise<number> {
    const idle = await findIdlePendingEmails(database.db, config.EMAIL_STRANDED_AFTER_S, STRANDED_BATCH);
    const live = await jobs.liveKeys(EMAIL_QUEUE, idle);
    const stranded = idle.filter((id) => !live.has(id));
    if (stranded.length === 0) return 0;
    await database.transaction(async (unit) => {
      for (const outboxId of stranded) await jobs.send<SendEmailJob>(unit, EMAIL_QUEUE, { outboxId }, { key: outboxId });
      await touchEmails(unit.tx, stranded);
    });
    logger.warn(`[EMAIL] Queued ${stranded.length} pending mail(s) that had no job`);
    return stranded.length;
  }
  jobs.every('email-requeue-stranded', config.EMAIL_STRANDED_CRON, requeueStrandedEmail);
  new Gauge({
    name: 'marketplace_email_outbox_backlog',
    help: 'E-mails waiting in the outbox',
    registers: [context.metrics],
    async collect() {
      // Database down: keep the last value rather than fail the whole scrape.
      const pending = await countByStatus(database.db, 'pending').catch(() => undefined);
      if (pending !== undefined) this.set(pending);
    },
  });

  return {
    name: 'email',
    async enqueue(unit, mail) {
      const outboxId = await insertOutboxEmail(unit.tx, mail);
      if (!outboxId) return;
      // The mail's own record must commit with its cause even when the queue cannot take the job
      // (not started yet, database schema missing): the stranded-mail sweep queues it later.
      await unit.query('SAVEPOINT email_job');
      try {
        await jobs.send<SendEmailJob>(unit, EMAIL_QUEUE, { outboxId }, { key: outboxId });
        await unit.query('RELEASE SAVEPOINT email_job');
      } catch (error) {
        await unit.query('ROLLBACK TO SAVEPOINT email_job');
        logger.warn(`[EMAIL] Could not queue ${mail.kind} mail ${outboxId} (${(error as Error).message}); the stranded-mail sweep will`);
      }
    },
    requeueStrandedEmail,
    start() {
      if (transport.name === 'log') logger.info('[EMAIL] EMAIL_DRIVER=log: e-mails are written to the log instead of sent');
    },
    async health() {
      const backlog = await countByStatus(database.db, 'pending');
      const failed = await countByStatus(database.db, 'failed');
      return { status: failed > 0 ? 'degraded' : 'ok', transport: transport.name, backlog, failed, ...sender.stats };
    },
  };
}
