import { z } from 'zod';

/** `POST /api/admin/orders/:id/resolve`: keep the money and sell (`accept`), or give it back (`refund`). */
export const ResolveOrderBody = z.strictObject({
  action: z.enum(['accept', 'refund']),
});

const listLimit = z
  .string()
  .regex(/^\d{1,3}$/, 'must be a whole number')
  .default('50')
  .transform(Number)
  .pipe(z.number().min(1).max(100));

export const auditTargetTypes = ['order', 'user', 'vendor'] as const;

export const AuditLogQuery = z.object({
  limit: listLimit,
  cursor: z.string().max(200).optional(),
  targetType: z.enum(auditTargetTypes).optional(),
  targetId: z.string().max(100).optional(),
});

export const AuditEntryView = z.object({
  id: z.uuid(),
  actorId: z.uuid(),
  action: z.string().describe('What was done, e.g. `order.accept`, `order.refund`, `user.suspend`, `vendor.reinstate`'),
  targetType: z.enum(auditTargetTypes),
  targetId: z.string(),
  before: z.unknown().nullable().describe('The record as it was before the action'),
  after: z.unknown().nullable().describe('The record as the action left it'),
  createdAt: z.string(),
});

export const AuditLogPage = z.object({
  items: z.array(AuditEntryView),
  nextCursor: z.string().nullable(),
});

export type ResolveOrderBody = z.infer<typeof ResolveOrderBody>;
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;
export type AuditEntryView = z.infer<typeof AuditEntryView>;
export type AuditTargetType = (typeof auditTargetTypes)[number];

export const UserStandingView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  emailVerified: z.boolean(),
  suspendedAt: z.string().nullable(),
});

export const VendorStandingView = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  storeName: z.string(),
  suspendedAt: z.string().nullable(),
  productCount: z.number().int(),
});

export const RefundView = z.object({
  provider: z.enum(['stripe', 'btcpay']),
  reference: z.string(),
  amountCents: z.number().int(),
  claimUrl: z.string().nullable().describe('Crypto refunds: the BTCPay pull-payment page where the buyer claims the coins'),
});
