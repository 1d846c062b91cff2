import { DeadlineExceeded, withDeadline } from '../../lib/deadline';
import { PaymentProviderUnavailable } from './payment-provider';

/** A Greenfield invoice, as much of it as we read. */
export interface BtcpayInvoice {
  id: string;
  status: string;
  amount: string;
  currency: string;
  checkoutLink: string;
  metadata?: Record<string, unknown>;
}

/** A pull payment (what a refund is): the buyer claims it at `viewLink` with their own address. */
export interface BtcpayPullPayment {
  id: string;
  viewLink: string;
  amount: string;
  currency: string;
}

/** BTCPay answered a 4xx that is not about our credentials (e.g. 422 "this invoice cannot be refunded"). */
export class BtcpayRequestRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`BTCPay refused the request (${status}${code ? ` ${code}` : ''})`);
    this.name = 'BtcpayRequestRefused';
  }
}

export interface BtcpaySettings {
  url: string;
  apiKey: string;
  storeId: string;
  timeoutMs: number;
}

export type BtcpayClient = ReturnType<typeof createBtcpayClient>;

/**
 * The slice of BTCPay Server's Greenfield API we use, over plain `fetch` (there is no official
 * Node SDK). Every call has one deadline from connect to the last byte of the body; failures that
 * are not the buyer's become `PaymentProviderUnavailable`, so callers answer 503. The API key
 * goes only into the Authorization header, never into a message.
 */
export function createBtcpayClient(settings: BtcpaySettings) {
  const store = `${settings.url.replace(/\/+$/, '')}/api/v1/stores/${encodeURIComponent(settings.storeId)}`;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    let text: string;
    try {
      // One deadline over the request and the whole body: a BTCPay that trickles bytes fails too.
      [res, text] = await withDeadline(settings.timeoutMs, async (signal) => {
        const answer = await fetch(`${store}${path}`, {
          method,
          headers: { Authorization: `token ${settings.apiKey}`, Accept: 'application/json', 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
        return [answer, await answer.text()] as const;
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown';
      if (error instanceof DeadlineExceeded || name === 'TimeoutError' || name === 'AbortError') {
        throw new PaymentProviderUnavailable('btcpay', 'timeout', `${method} ${path} took over ${settings.timeoutMs} ms`);
      }
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : name;
      throw new PaymentProviderUnavailable('btcpay', 'unreachable', `${method} ${path}: ${cause}`);
    }
    const detail = `${method} ${path} → ${res.status}`;
    if (res.status === 401 || res.status === 403) throw new PaymentProviderUnavailable('btcpay', 'misconfigured', detail, 60);
    if (res.status === 429) throw new PaymentProviderUnavailable('btcpay', 'rate_limited', detail, retryAfterOf(res));
    if (res.status >= 500) throw new PaymentProviderUnavailable('btcpay', 'failing', detail);
    if (res.status >= 400) throw new BtcpayRequestRefused(res.status, errorCodeOf(text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new PaymentProviderUnavailable('btcpay', 'failing', `${detail} with a body that is not JSON`);
    }
  }

  return {
    createInvoice(request: {
      amount: string;
      currency: string;
      metadata: Record<string, unknown>;
      checkout: { expirationMinutes: number };
    }): Promise<BtcpayInvoice> {
      return call('POST', '/invoices', request);
    },
    findInvoice(invoiceId: string): Promise<BtcpayInvoice> {
      return call('GET', `/invoices/${encodeURIComponent(invoiceId)}`);
    },
    markInvoiceInvalid(invoiceId: string): Promise<BtcpayInvoice> {
      return call('POST', `/invoices/${encodeURIComponent(invoiceId)}/status`, { status: 'Invalid' });
    },
    /** Which payment methods of the invoice received money (the refund is paid in the same coin). */
    listPaymentMethods(
      invoiceId: string,
    ): Promise<Array<{ paymentMethodId?: string; paymentMethod?: string; paymentMethodPaid?: string }>> {
      return call('GET', `/invoices/${encodeURIComponent(invoiceId)}/payment-methods`);
    },
    refundInvoice(
      invoiceId: string,
      request: { refundVariant: 'Fiat' | 'Custom'; paymentMethod?: string; customAmount?: string; customCurrency?: string; name: string },
    ): Promise<BtcpayPullPayment> {
      return call('POST', `/invoices/${encodeURIComponent(invoiceId)}/refund`, request);
    },
  };
}

function retryAfterOf(res: Response): number {
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isInteger(seconds) && seconds > 0 && seconds <= 300 ? seconds : 5;
}

// Greenfield errors are `{code, message}` or a list of `{path, message}` validation errors.
function errorCodeOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body?.code === 'string' ? body.code : undefined;
  } catch {
    return undefined;
  }
}

/** Cents as Greenfield's decimal string ("12.34"). */
export function centsToAmount(cents: number): string {
  return `${Math.trunc(cents / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
}

/** Greenfield's decimal string as cents, exactly (no float rounding); NaN when it is not a decimal. */
export function amountToCents(amount: string): number {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(amount.trim());
  if (!match) return Number.NaN;
  const fraction = (match[2] ?? '').padEnd(2, '0');
  // Sub-cent digits beyond the second must be zeros, or it is not a whole number of cents.
  if (/[1-9]/.test(fraction.slice(2))) return Number.NaN;
  return Number(match[1]) * 100 + Number(fraction.slice(0, 2));
}
