/*
 * The one definition of each enumeration the database, the contracts and the server share.
 * The Drizzle schema turns them into column types, the zod contracts into request and
 * response validation, and the server into TypeScript unions.
 */
export const userRoles = ['buyer', 'vendor', 'admin'] as const;
export type Role = (typeof userRoles)[number];

// `failed`: the provider reported the payment failed or cancelled; its stock went back at once.
// `processing` → `shipped` → `delivered`: fulfilment after payment. An order with lines from
// several vendors shows the least advanced of its vendors' fulfilments (order_fulfilments).
export const orderStatuses = [
  'pending',
  'paid',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
  'expired',
  'failed',
  'refunded',
  'review',
] as const;

/** Where one vendor's lines of a paid order are; `paid` means the vendor has not started. */
export const fulfilmentStatuses = ['paid', 'processing', 'shipped', 'delivered'] as const;

/** Single-use tokens mailed to a user: a password reset (1 h) or an e-mail address check. */
export const accountTokenPurposes = ['password_reset', 'email_verification'] as const;

export const paymentMethods = ['card', 'crypto'] as const;

export const emailStatuses = ['pending', 'sent', 'failed'] as const;
