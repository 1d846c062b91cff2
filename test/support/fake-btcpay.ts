import { createHmac, randomBytes } from 'node:crypto';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream, type UpstreamReply } from './fake-upstream';

export interface FakeInvoice {
  id: string;
  storeId: string;
  amount: string;
  currency: string;
  type: 'Standard';
  checkoutLink: string;
  status: 'New' | 'Processing' | 'Settled' | 'Expired' | 'Invalid';
  additionalStatus: string;
  createdTime: number;
  expirationTime: number;
  monitoringExpiration: number;
  metadata: Record<string, unknown>;
  checkout: Record<string, unknown>;
}

export interface FakeBtcpay extends FakeUpstream {
  storeId: string;
  apiKey: string;
  webhookSecret: string;
  /** BTCPAY_* variables for startTestApp's env, pointing at this server. */
  env: Record<string, string>;
  invoices: Map<string, FakeInvoice>;
  pullPayments: Map<string, Record<string, unknown>>;
  /** POSTs the event to the app's webhook route, signed with the store webhook's secret, as BTCPay does. */
  sendWebhook(appUrl: string, event: Record<string, unknown>): Promise<Response>;
  /** The same, unsigned (`missing`), signed with another secret (`forged`) or with a cut-short signature (`short`). */
  sendForgedWebhook(appUrl: string, event: Record<string, unknown>, how: 'missing' | 'forged' | 'short'): Promise<Response>;
}

/** A Greenfield webhook event for `invoice`: the common fields, the type's own (`fields`), a fresh delivery id unless given. */
export function btcpayEvent(
  invoice: Pick<FakeInvoice, 'id' | 'storeId' | 'metadata'>,
  type: string,
  fields: Record<string, unknown> = {},
  delivery: { deliveryId?: string; originalDeliveryId?: string } = {},
): Record<string, unknown> {
  const deliveryId = delivery.deliveryId ?? randomBytes(11).toString('base64url');
  return {
    deliveryId,
    webhookId: 'WhKfake0000000000001',
    originalDeliveryId: delivery.originalDeliveryId ?? deliveryId,
    isRedelivery: delivery.originalDeliveryId !== undefined && delivery.originalDeliveryId !== deliveryId,
    type,
    timestamp: Math.floor(Date.now() / 1000),
    storeId: invoice.storeId,
    invoiceId: invoice.id,
    metadata: invoice.metadata,
    ...fields,
  };
}

const greenfieldError = (status: number, code: string, message: string): UpstreamReply => ({ status, body: { code, message } });

/**
 * Speaks the slice of BTCPay Server's Greenfield API the server uses, under
 * `/api/v1/stores/{storeId}`: invoices (create, get, list by `orderId`, mark a status), an
 * invoice's payment methods, and refunds (a pull payment). `Authorization: token <apiKey>` or 401;
 * errors in Greenfield's `{code, message}` shape. Outages through `setFault` (hang, down, 5xx…).
 */
export async function startFakeBtcpay(): Promise<FakeBtcpay> {
  const storeId = `Store${randomBytes(6).toString('hex')}`;
  const apiKey = randomBytes(20).toString('hex');
  const webhookSecret = randomBytes(16).toString('hex');
  const invoices = new Map<string, FakeInvoice>();
  const pullPayments = new Map<string, Record<string, unknown>>();
  let baseUrl = '';

  const handle = (req: RecordedRequest): UpstreamReply => {
    if (req.headers.authorization !== `token ${apiKey}`) return greenfieldError(401, 'unauthenticated', 'Authentication is required');
    const prefix = `/api/v1/stores/${storeId}`;
    if (!req.path.startsWith(`${prefix}/`)) return greenfieldError(404, 'store-not-found', 'The store was not found');
    const path = req.path.slice(prefix.length);
    if (req.method === 'POST' && path === '/invoices') {
      const body = req.json<{
        amount: string;
        currency: string;
        metadata?: Record<string, unknown>;
        checkout?: { expirationMinutes?: number };
      }>();
      const id = randomBytes(11).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const invoice: FakeInvoice = {
        id,
        storeId,
        amount: body.amount,
        currency: body.currency,
        type: 'Standard',
        checkoutLink: `${baseUrl}/i/${id}`,
        status: 'New',
        additionalStatus: 'None',
        createdTime: now,
        expirationTime: now + (body.checkout?.expirationMinutes ?? 15) * 60,
        monitoringExpiration: now + ((body.checkout?.expirationMinutes ?? 15) + 60) * 60,
        metadata: body.metadata ?? {},
        checkout: body.checkout ?? {},
      };
      invoices.set(id, invoice);
      return { body: invoice };
    }
    if (req.method === 'GET' && path === '/invoices') {
      const orderIds = req.query.getAll('orderId');
      return { body: [...invoices.values()].filter((i) => orderIds.length === 0 || orderIds.includes(String(i.metadata.orderId))) };
    }
    const match = /^\/invoices\/([^/]+)(\/[a-z-]+)?$/.exec(path);
    const invoice = match ? invoices.get(decodeURIComponent(match[1]!)) : undefined;
    if (match && !invoice) return greenfieldError(404, 'invoice-not-found', 'The invoice was not found');
    if (!invoice) return greenfieldError(404, 'not-found', `No route ${req.method} ${req.path}`);
    const action = match?.[2];
    if (req.method === 'GET' && !action) return { body: invoice };
    if (req.method === 'POST' && action === '/status') {
      const { status } = req.json<{ status: string }>();
      if (status !== 'Invalid' && status !== 'Settled') return { status: 422, body: [{ path: 'status', message: 'Invalid status' }] };
      invoice.status = status;
      invoice.additionalStatus = 'Marked';
      return { body: invoice };
    }
    if (req.method === 'GET' && action === '/payment-methods') {
      const paid = invoice.status === 'Settled';
      return {
        body: [{ paymentMethodId: 'BTC-CHAIN', currency: 'BTC', paymentMethodPaid: paid ? '0.00123456' : '0.00000000', payments: [] }],
      };
    }
    if (req.method === 'POST' && action === '/refund') {
      if (invoice.status !== 'Settled') return greenfieldError(400, 'non-refundable', 'Cannot refund this invoice');
      const body = req.json<{ refundVariant?: string; customAmount?: string; customCurrency?: string; name?: string }>();
      const id = randomBytes(11).toString('base64url');
      const pullPayment = {
        id,
        name: body.name ?? null,
        description: null,
        currency: body.refundVariant === 'Custom' ? body.customCurrency : invoice.currency,
        amount: body.refundVariant === 'Custom' ? body.customAmount : invoice.amount,
        period: null,
        archived: false,
        autoApproveClaims: false,
        viewLink: `${baseUrl}/pull-payments/${id}`,
      };
      pullPayments.set(id, pullPayment);
      return { body: pullPayment };
    }
    return greenfieldError(404, 'not-found', `No route ${req.method} ${req.path}`);
  };

  const upstream = await startFakeUpstream(handle);
  baseUrl = upstream.url;
  const sign = (payload: string, secret: string) => `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
  const post = (appUrl: string, payload: string, signature: string | undefined) =>
    fetch(`${appUrl}/api/payments/btcpay/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(signature ? { 'BTCPay-Sig': signature } : {}) },
      body: payload,
    });
  return Object.assign(upstream, {
    storeId,
    apiKey,
    webhookSecret,
    env: { BTCPAY_URL: upstream.url, BTCPAY_API_KEY: apiKey, BTCPAY_STORE_ID: storeId, BTCPAY_WEBHOOK_SECRET: webhookSecret },
    invoices,
    pullPayments,
    sendWebhook(appUrl: string, event: Record<string, unknown>) {
      const payload = JSON.stringify(event);
      return post(appUrl, payload, sign(payload, webhookSecret));
    },
    sendForgedWebhook(appUrl: string, event: Record<string, unknown>, how: 'missing' | 'forged' | 'short') {
      const payload = JSON.stringify(event);
      if (how === 'missing') return post(appUrl, payload, undefined);
      if (how === 'forged') return post(appUrl, payload, sign(payload, `${webhookSecret}-not`));
      return post(appUrl, payload, sign(payload, webhookSecret).slice(0, -2));
    },
  });
}
