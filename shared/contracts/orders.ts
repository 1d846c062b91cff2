import { z } from 'zod';
import { fulfilmentStatuses, orderStatuses, paymentMethods } from '../enums';
import { CryptoSymbol } from './crypto-rates';
import { plainString, text } from './text';

export const PlaceOrderBody = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          // Lower-cased so that case variants of one id are one product for the per-product cap.
          productId: z.uuid({ message: 'must be a UUID' }).toLowerCase(),
          quantity: z.number().int('must be a whole number').min(1).max(1_000),
        }),
      )
      .min(1, 'at least one item')
      .max(50),
    paymentMethod: z.enum(paymentMethods),
    cryptoCurrency: CryptoSymbol.optional(),
  })
  .refine((o) => o.paymentMethod !== 'crypto' || o.cryptoCurrency, {
    message: 'required when paymentMethod is crypto',
    path: ['cryptoCurrency'],
  });

export const OrderListQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .default('50')
    .transform(Number)
    .pipe(z.number().min(1).max(100)),
});

export const OrderItemView = z.object({
  productId: z.uuid(),
  vendorId: z.uuid(),
  title: z.string(),
  quantity: z.number().int(),
  unitPriceCents: z.number().int(),
});

export const CryptoQuoteView = z.object({
  symbol: z.string(),
  amount: z.string(),
  rate: z.number(),
  tier: z.string(),
  source: z.string(),
  expiresAt: z.string(),
  invoiceId: z.string().nullable().describe("The crypto payment processor's (BTCPay Server's) invoice"),
  checkoutUrl: z.string().nullable().describe('Where the buyer pays the invoice'),
});

/** One store's part of a sold order: how far its lines have come. */
export const FulfilmentView = z.object({
  vendorId: z.uuid(),
  storeName: z.string().nullable(),
  status: z.enum(fulfilmentStatuses).describe('`paid`: the store has not started; then `processing` → `shipped` → `delivered`'),
  carrier: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  shippedAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});

export const OrderView = z.object({
  id: z.uuid(),
  buyerId: z.uuid(),
  status: z.enum(orderStatuses),
  paymentMethod: z.enum(paymentMethods),
  view: z
    .enum(['buyer', 'vendor'])
    .describe(
      "Whose view this is. `buyer`: every line, the order's total and its crypto quote. `vendor` (a store selling some of its lines): only that store's lines, `totalCents` is their subtotal, `crypto` is null.",
    ),
  totalCents: z.number().int().describe('The total of the lines shown: the whole order for its buyer, the own subtotal for a vendor'),
  currency: z.string(),
  expiresAt: z.string(),
  paidAt: z.string().nullable(),
  items: z.array(OrderItemView),
  crypto: CryptoQuoteView.nullable(),
  fulfilments: z
    .array(FulfilmentView)
    .describe(
      "Each store's part once the order is sold (paid and later: every store of the order, `paid` until it starts); before payment none; a refunded or review order keeps the parts that had started. A vendor sees only its own.",
    ),
  createdAt: z.string(),
});

/** An order as the admin console shows it: the buyer's full view plus who the buyer is. */
export const AdminOrder = OrderView.extend({ buyerEmail: z.string().optional() });

// --- A vendor's orders ------------------------------------------------------------------

/*
 * A store sees the orders that have been sold (paid and later), and, for information, those
 * refunded or held for review; never unpaid, cancelled, expired or failed ones (nothing to ship).
 */
export const vendorOrderFilters = [...fulfilmentStatuses, 'refunded', 'review'] as const;

export const VendorOrderListQuery = z.strictObject({
  status: z
    .enum(vendorOrderFilters)
    .optional()
    .describe(
      "`paid`…`delivered`: the store's own part of an order still being fulfilled (`paid`: not started yet, whatever the other stores did); `refunded` / `review`: the order's status",
    ),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid({ message: 'must be a cursor returned by the previous page' }).toLowerCase().optional(),
});

export const VendorOrderView = z.object({
  id: z.uuid(),
  status: z.enum(orderStatuses).describe("The order's status (the least advanced of its stores' parts while it is fulfilled)"),
  paymentMethod: z.enum(paymentMethods),
  buyer: z.object({ name: z.string() }).describe('Who to ship to: the name only, no e-mail address'),
  items: z.array(OrderItemView).describe("This store's lines only"),
  subtotalCents: z.number().int().describe("What this store's lines come to (never the order's total)"),
  currency: z.string(),
  fulfilment: FulfilmentView,
  paidAt: z.string().nullable(),
  createdAt: z.string(),
});
export const VendorOrderList = z.object({ items: z.array(VendorOrderView), nextCursor: z.string().nullable() });

export const fulfilmentSteps = ['processing', 'shipped', 'delivered'] as const;

export const FulfilmentUpdateBody = z
  .strictObject({
    status: z.enum(fulfilmentSteps),
    carrier: text(100).min(1, 'required').optional(),
    trackingNumber: plainString(100).min(1, 'required').optional(),
  })
  .refine((b) => b.status !== 'shipped' || (b.carrier && b.trackingNumber), {
    message: 'carrier and trackingNumber are required to ship',
    path: ['trackingNumber'],
  });

export const PaymentIntentView = z.object({
  paymentIntentId: z.string(),
  clientSecret: z.string(),
  publishableKey: z.string().nullable(),
});

export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;
export type OrderView = z.infer<typeof OrderView>;
export type FulfilmentView = z.infer<typeof FulfilmentView>;
export type AdminOrder = z.infer<typeof AdminOrder>;
export type VendorOrderView = z.infer<typeof VendorOrderView>;
export type FulfilmentUpdateBody = z.infer<typeof FulfilmentUpdateBody>;
export type CryptoQuoteView = z.infer<typeof CryptoQuoteView>;
export type PaymentIntentView = z.infer<typeof PaymentIntentView>;
