/*
 * The one definition of each enumeration the database, the contracts and the server share.
 * The Drizzle schema turns them into column types, the zod contracts into request and
 * response validation, and the server into TypeScript unions.
 */
export const userRoles = ['buyer', 'vendor', 'admin'] as const;
export type Role = (typeof userRoles)[number];

// `failed`: the provider reported the payment failed or cancelled; its stock went back at once.
export const orderStatuses = ['pending', 'paid', 'cancelled', 'expired', 'failed', 'refunded', 'review'] as const;

export const paymentMethods = ['card', 'crypto'] as const;

export const emailStatuses = ['pending', 'sent', 'failed'] as const;
