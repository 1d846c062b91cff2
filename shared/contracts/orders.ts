import { z } from 'zod';
import { orderStatuses, paymentMethods } from '../enums';
import { CryptoSymbol } from './crypto-rates';

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
  createdAt: z.string(),
});

export const PaymentIntentView = z.object({
  paymentIntentId: z.string(),
  clientSecret: z.string(),
  publishableKey: z.string().nullable(),
});

export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;
export type OrderView = z.infer<typeof OrderView>;
export type CryptoQuoteView = z.infer<typeof CryptoQuoteView>;
export type PaymentIntentView = z.infer<typeof PaymentIntentView>;
