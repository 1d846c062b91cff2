import type { z } from 'zod';
import type { AdminOrder, RefundView, UserStandingView, VendorStandingView } from '../../../shared/contracts';
import type { orderStatuses } from '../../../shared/enums';
import type { UnitOfWork } from '../../db';
import type { RefundableOrder } from '../orders';

type OrderStatus = (typeof orderStatuses)[number];
type AdminOrderView = z.infer<typeof AdminOrder>;
type UserStanding = z.infer<typeof UserStandingView>;
type VendorStanding = z.infer<typeof VendorStandingView>;
type Change<T> = { before: T; after: T };

/**
 * What the admin module asks of the modules that own the records it acts on (wired in app.ts).
 * Each change runs inside the unit of work the admin module opens, so the change and its audit
 * line commit together.
 */
export interface AdminPorts {
  orders: {
    listOrdersForAdmin(query: {
      status?: OrderStatus;
      limit: number;
      cursor?: string;
    }): Promise<{ orders: AdminOrderView[]; nextCursor: string | null }>;
    acceptReviewOrder(unit: UnitOfWork, orderId: string): Promise<Change<AdminOrderView>>;
    findOrderForRefund(orderId: string, unit?: UnitOfWork): Promise<RefundableOrder | undefined>;
    markOrderRefunded(unit: UnitOfWork, orderId: string, refundedCents: number): Promise<Change<AdminOrderView>>;
  };
  payments: { refundOrderPayment(order: RefundableOrder): Promise<z.infer<typeof RefundView>> };
  users: { setUserSuspended(unit: UnitOfWork, userId: string, suspended: boolean, at: Date): Promise<Change<UserStanding> | undefined> };
  vendors: {
    setVendorSuspended(unit: UnitOfWork, vendorId: string, suspended: boolean, at: Date): Promise<Change<VendorStanding> | undefined>;
  };
}
