import { Gauge } from 'prom-client';
import type { TransactionRunner, UnitOfWork } from '../../db';
import type { JobQueue } from '../../lib/job-queue';
import type { AppModule, ModuleContext } from '../../lib/module';
import { createEmailSender, type SendEmailJob } from './email-sender';
import { createBrevoTransport, createLogTransport, type EmailTransport } from './email-transport';
import { countByStatus, insertOutboxEmail, type OutgoingEmail, reopenFailedEmails } from './outbox.repository';

export { orderConfirmationEmail, vendorNewOrderEmail, welcomeEmail } from './email-templates';
export type { OutgoingEmail } from './outbox.repository';

/** The job queue carrying one job per mail to send (`{ outboxId }`). */
export const EMAIL_QUEUE = 'email-send';

export interface EmailModule extends AppModule {
  /**
   * Records a mail in the outbox and queues its sending job, both inside the caller's unit of
   * work: they exist exactly when the event that caused them committed. A mail whose dedupe key
   * exists already is neither recorded nor queued again.
   */
  enqueue(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
}

/** Queues every given-up mail again (status back to pending, a fresh job each); returns how many. */
export function redriveGivenUpEmail(database: TransactionRunner, jobs: Pick<JobQueue, 'send'>): Promise<number> {
  return database.transaction(async (unit) => {
    const ids = await reopenFailedEmails(unit.tx);
    for (const outboxId of ids) await jobs.send<SendEmailJob>(unit, EMAIL_QUEUE, { outboxId });
    return ids.length;
  });
}

export function createEmailModule(context: ModuleContext, options: { jobs: JobQueue; transport?: EmailTransport }): EmailModule {
  const { config, logger, database, clock } = context;
  const { jobs } = options;
  const transport = options.transport ?? (config.BREVO_API_KEY ? createBrevoTransport(config) : createLogTransport(logger));
  const sender = createEmailSender({ db: database.db, transport, logger, clock, giveUpAfterSeconds: config.EMAIL_GIVE_UP_AFTER_S });
  jobs.work<SendEmailJob>(
    EMAIL_QUEUE,
    {
      concurrency: config.EMAIL_CONCURRENCY,
      // The lease covers a send that runs into its timeout plus the record's retries: while a
      // mail is in flight no other instance can take its job.
      expireInSeconds: 2 * config.EMAIL_SEND_TIMEOUT_S + 60,
      retryDelaySeconds: config.EMAIL_RETRY_DELAY_S,
      retryBackoff: config.EMAIL_RETRY_BACKOFF,
      // The mail's age (EMAIL_GIVE_UP_AFTER_S) decides when to give up, never the attempt count.
      retryLimit: 1_000_000,
    },
    (job) => sender.handle(job),
  );
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
      if (outboxId) await jobs.send<SendEmailJob>(unit, EMAIL_QUEUE, { outboxId });
    },
    start() {
      if (transport.name === 'log') logger.info('[EMAIL] No BREVO_API_KEY: e-mails are written to the log instead of sent');
    },
    async health() {
      const backlog = await countByStatus(database.db, 'pending');
      const failed = await countByStatus(database.db, 'failed');
      return { status: failed > 0 ? 'degraded' : 'ok', transport: transport.name, backlog, failed, ...sender.stats };
    },
  };
}
