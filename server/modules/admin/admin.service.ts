import type { AuditLogQuery, AuditTargetType } from '../../../shared/contracts';
import type { Database, UnitOfWork } from '../../db';
import type { Clock } from '../../lib/clock';
import { conflict, notFound } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { type AuditEntry, insertAuditEntry, listAuditEntries } from './audit-log.repository';
import type { AdminPorts } from './ports';

export interface AdminDeps extends AdminPorts {
  database: Database;
  clock: Clock;
  logger: Logger;
}

/*
 * Every admin action runs as one transaction that makes the change and writes its audit line:
 * an action that fails leaves neither, one that commits always has both.
 */
async function audited<T extends { before: unknown; after: unknown }>(
  deps: AdminDeps,
  entry: Omit<AuditEntry, 'before' | 'after'>,
  change: (unit: UnitOfWork) => Promise<T | undefined>,
  what: string,
): Promise<T> {
  return deps.database.transaction(async (unit) => {
    const result = await change(unit);
    if (!result) throw notFound(what);
    await insertAuditEntry(unit.tx, { ...entry, before: result.before, after: result.after });
    return result;
  });
}

export function acceptReviewOrder(deps: AdminDeps, actorId: string, orderId: string) {
  return audited(
    deps,
    { actorId, action: 'order.accept', targetType: 'order', targetId: orderId },
    (unit) => deps.orders.acceptReviewOrder(unit, orderId),
    'Order',
  );
}

/**
 * Refunds a review order through its payment provider and records it, in one transaction holding
 * the order's row lock across the provider call (bounded by the provider client's deadline): a
 * BTCPay refund (a pull payment) has no idempotency key, so a second admin's refund, or an
 * accept, must wait for this one and then find the order refunded (409) rather than pay twice.
 */
export async function refundReviewOrder(deps: AdminDeps, actorId: string, orderId: string) {
  const result = await audited(
    deps,
    { actorId, action: 'order.refund', targetType: 'order', targetId: orderId },
    async (unit) => {
      const order = await deps.orders.findOrderForRefund(orderId, unit);
      if (!order) return undefined;
      if (order.status !== 'review') throw notInReview(order.status);
      const refund = await deps.payments.refundOrderPayment(order);
      deps.logger.info(`[ADMIN] ${actorId} refunded order ${orderId} through ${refund.provider} (${refund.reference})`);
      const changed = await deps.orders.markOrderRefunded(unit, orderId, order.refundedCents + refund.amountCents);
      return { before: changed.before, after: { ...changed.after, refund } };
    },
    'Order',
  );
  return { order: result.after, refund: result.after.refund };
}

function notInReview(status: string) {
  return conflict('order_not_in_review', `Only orders in review are resolved here; this one is ${status}`, { status });
}

export function setUserSuspended(deps: AdminDeps, actorId: string, userId: string, suspended: boolean) {
  // An admin locking themselves out would leave nobody to undo it.
  if (userId === actorId) throw conflict('cannot_suspend_self', 'Admins cannot suspend or reinstate themselves');
  return audited(
    deps,
    { actorId, action: suspended ? 'user.suspend' : 'user.reinstate', targetType: 'user', targetId: userId },
    (unit) => deps.users.setUserSuspended(unit, userId, suspended, new Date(deps.clock.now())),
    'User',
  );
}

export function setVendorSuspended(deps: AdminDeps, actorId: string, vendorId: string, suspended: boolean) {
  return audited(
    deps,
    { actorId, action: suspended ? 'vendor.suspend' : 'vendor.reinstate', targetType: 'vendor', targetId: vendorId },
    (unit) => deps.vendors.setVendorSuspended(unit, vendorId, suspended, new Date(deps.clock.now())),
    'Vendor',
  );
}

export function readAuditLog(deps: AdminDeps, query: AuditLogQuery & { targetType?: AuditTargetType }) {
  return listAuditEntries(deps.database.db, query);
}
