import { Gauge } from 'prom-client';
import type { UnitOfWork } from '../../db';
import type { AppModule, ModuleContext } from '../../lib/module';
import { createBrevoTransport, createLogTransport, type EmailTransport } from './email-transport';
import { createOutboxSender } from './outbox-sender';
import { countByStatus, insertOutboxEmail, type OutgoingEmail } from './outbox.repository';

export { orderConfirmationEmail, type PaidOrder, vendorNewOrderEmail, welcomeEmail } from './email-templates';
export type { OutgoingEmail } from './outbox.repository';

export interface EmailModule extends AppModule {
  /**
   * Puts a mail in the outbox inside the caller's unit of work: it exists exactly when the event
   * that caused it committed, and sending starts once it has.
   */
  enqueue(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  kick(): void;
}

export function createEmailModule(context: ModuleContext, options: { transport?: EmailTransport } = {}): EmailModule {
  const { config, logger, database } = context;
  const transport = options.transport ?? (config.BREVO_API_KEY ? createBrevoTransport(config) : createLogTransport(logger));
  const sender = createOutboxSender({
    db: database.db,
    transport,
    logger,
    pollMs: config.EMAIL_POLL_MS,
    maxAttempts: config.EMAIL_MAX_ATTEMPTS,
    retryBaseMs: config.EMAIL_RETRY_BASE_MS,
  });
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
      await insertOutboxEmail(unit.tx, mail);
      unit.afterCommit(() => sender.kick());
    },
    kick: () => sender.kick(),
    start() {
      if (transport.name === 'log') logger.info('[EMAIL] No BREVO_API_KEY: e-mails are written to the log instead of sent');
      sender.start();
    },
    async health() {
      const backlog = await countByStatus(database.db, 'pending');
      const failed = await countByStatus(database.db, 'failed');
      return { status: failed > 0 ? 'degraded' : 'ok', transport: transport.name, backlog, failed, sent: sender.sent, failedAttempts: sender.failedAttempts };
    },
    // Stopped early so no send starts while the server drains; stop() again is a no-op.
    beginShutdown: () => sender.stop(),
    stop: () => sender.stop(),
  };
}
