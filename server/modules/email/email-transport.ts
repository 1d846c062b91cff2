import { BrevoClient, BrevoError, BrevoTimeoutError } from '@getbrevo/brevo';
import type { Config } from '../../lib/config';
import { withDeadline } from '../../lib/deadline';
import type { Logger } from '../../lib/logger';

export interface EmailMessage {
  toEmail: string;
  toName?: string | null;
  subject: string;
  html: string;
  text: string;
}

/** Delivers one message; throws when the provider refuses or is unreachable (the job retries, see `permanentRejection`). */
export interface EmailTransport {
  name: 'brevo' | 'log';
  send(message: EmailMessage): Promise<{ messageId?: string }>;
}

/*
 * A 4xx says this request will never succeed as it is (bad address, bad key, forbidden sender):
 * retrying only repeats it. 408/425/429 are the exceptions (the provider asks us to come back),
 * and 5xx, timeouts and network errors are transient.
 */
const TRANSIENT_4XX = new Set([408, 425, 429]);

/** The reason when the provider refused the mail for good; undefined when a retry may succeed. */
export function permanentRejection(error: unknown): string | undefined {
  if (!(error instanceof BrevoError) || error instanceof BrevoTimeoutError) return undefined;
  const status = error.statusCode;
  if (status === undefined || status < 400 || status >= 500 || TRANSIENT_4XX.has(status)) return undefined;
  return `provider refused the mail (${status}): ${error.message}`;
}

/** `Name <address>` or a bare address. */
function parseSender(from: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(from);
  return match ? { name: match[1] || undefined, email: match[2]! } : { email: from.trim() };
}

export function createBrevoTransport(
  config: Pick<Config, 'BREVO_API_KEY' | 'BREVO_API_URL' | 'EMAIL_FROM' | 'EMAIL_SEND_TIMEOUT_S'>,
): EmailTransport {
  const client = new BrevoClient({
    apiKey: config.BREVO_API_KEY!,
    ...(config.BREVO_API_URL ? { baseUrl: config.BREVO_API_URL.replace(/\/$/, '') } : {}),
    // The job queue owns retries (with backoff across restarts); the SDK must not retry on its own.
    // (SDK quirk: when the connection itself fails, its timeout timer is left running until it
    // fires, so a refused send keeps a timer alive for up to timeoutInSeconds. Bounded, harmless.)
    maxRetries: 0,
    timeoutInSeconds: config.EMAIL_SEND_TIMEOUT_S,
  });
  const sender = parseSender(config.EMAIL_FROM);
  return {
    name: 'brevo',
    async send(message) {
      // The SDK's timeout stops at the response headers; the deadline also covers a body that never ends.
      const response = await withDeadline(config.EMAIL_SEND_TIMEOUT_S * 1000, (abortSignal) =>
        client.transactionalEmails.sendTransacEmail(
          {
            sender,
            to: [{ email: message.toEmail, ...(message.toName ? { name: message.toName } : {}) }],
            subject: message.subject,
            htmlContent: message.html,
            textContent: message.text,
          },
          { abortSignal },
        ),
      );
      return { messageId: response.messageId };
    },
  };
}

/**
 * EMAIL_DRIVER=log (development's default without a Brevo key): the mail is written to the log,
 * and counts as sent. In production (a staging shop without mail) only its recipient and subject
 * are: a body may hold a password-reset or verification link, and logs are read by more people
 * than the account's owner. The outbox row keeps the whole mail.
 */
export function createLogTransport(logger: Logger, options: { withBody: boolean }): EmailTransport {
  return {
    name: 'log',
    async send(message) {
      const body = options.withBody ? message.text : '(body not logged in production: it may hold a sign-in link)';
      logger.info(`[EMAIL] (not sent: EMAIL_DRIVER=log) To: ${message.toEmail} | Subject: ${message.subject}\n${body}`);
      return {};
    },
  };
}
