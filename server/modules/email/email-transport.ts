import { BrevoClient } from '@getbrevo/brevo';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';

export interface EmailMessage {
  toEmail: string;
  toName?: string | null;
  subject: string;
  html: string;
  text: string;
}

/** Delivers one message; throws when the provider refuses or is unreachable (the outbox retries). */
export interface EmailTransport {
  name: 'brevo' | 'log';
  send(message: EmailMessage): Promise<{ messageId?: string }>;
}

/** `Name <address>` or a bare address. */
function parseSender(from: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(from);
  return match ? { name: match[1] || undefined, email: match[2]! } : { email: from.trim() };
}

export function createBrevoTransport(config: Config): EmailTransport {
  const client = new BrevoClient({
    apiKey: config.BREVO_API_KEY!,
    ...(config.BREVO_API_URL ? { baseUrl: config.BREVO_API_URL.replace(/\/$/, '') } : {}),
    // The outbox owns retries (with backoff across restarts); the SDK must not retry on its own.
    // (SDK quirk: when the connection itself fails, its timeout timer is left running until it
    // fires, so a refused send keeps a timer alive for up to timeoutInSeconds. Bounded, harmless.)
    maxRetries: 0,
    timeoutInSeconds: 15,
  });
  const sender = parseSender(config.EMAIL_FROM);
  return {
    name: 'brevo',
    async send(message) {
      const response = await client.transactionalEmails.sendTransacEmail({
        sender,
        to: [{ email: message.toEmail, ...(message.toName ? { name: message.toName } : {}) }],
        subject: message.subject,
        htmlContent: message.html,
        textContent: message.text,
      });
      return { messageId: response.messageId };
    },
  };
}

/** Development without a Brevo key: the mail is written to the log, and counts as sent. */
export function createLogTransport(logger: Logger): EmailTransport {
  return {
    name: 'log',
    async send(message) {
      logger.info(`[EMAIL] (not sent: no BREVO_API_KEY) To: ${message.toEmail} | Subject: ${message.subject}\n${message.text}`);
      return {};
    },
  };
}
