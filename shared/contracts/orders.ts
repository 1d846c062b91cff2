import { z } from 'zod';
import { orderStatuses, paymentMethods } from '../enums';
import { CryptoSymbol } from './crypto-rates';

export const PlaceOrderBody = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          productId: z.uuid({ message: 'must be a UUID' }),
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
});

export const OrderView = z.object({
  id: z.uuid(),
  buyerId: z.uuid(),
  status: z.enum(orderStatuses),
  paymentMethod: z.enum(paymentMethods),
  totalCents: z.number().int(),
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
