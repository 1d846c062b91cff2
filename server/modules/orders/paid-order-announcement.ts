import type { UnitOfWork } from '../../db';
import { findUserContacts } from '../auth';
import { findVendorSummaries } from '../catalogue';
import { type OutgoingEmail, orderConfirmationEmail, vendorNewOrderEmail } from '../email';
import { findItems, type OrderRow } from './orders.repository';
import type { Notify } from './orders.service';

export interface AnnouncementDeps {
  enqueueEmail(unit: UnitOfWork, mail: OutgoingEmail): Promise<void>;
  notify?: Notify;
}

/**
 * What an order becoming paid sets off, inside the unit of work that made it paid (a provider's
 * success, or an admin accepting a review): the buyer's confirmation, and each store's new-order
 * mail and push with its own subtotal.
 */
export async function announcePaidOrder(deps: AnnouncementDeps, unit: UnitOfWork, order: OrderRow): Promise<void> {
  const { tx } = unit;
  const items = await findItems(tx, order.id);
  const paid = { id: order.id, totalCents: order.totalCents, currency: order.currency, items };
  const vendors = await findVendorSummaries(
    tx,
    items.map((i) => i.vendorId),
  );
  const contacts = new Map((await findUserContacts(tx, [order.buyerId, ...vendors.map((v) => v.userId)])).map((c) => [c.id, c]));
  const buyer = contacts.get(order.buyerId);
  if (buyer) await deps.enqueueEmail(unit, orderConfirmationEmail(paid, buyer));
  for (const vendor of vendors) {
    const contact = contacts.get(vendor.userId);
    if (contact)
      await deps.enqueueEmail(
        unit,
        vendorNewOrderEmail(paid, { id: vendor.id, storeName: vendor.storeName, email: contact.email, name: contact.name }),
      );
    // Each store learns what its own lines come to, not the order's total (other stores' sales).
    const subtotalCents = items.filter((i) => i.vendorId === vendor.id).reduce((sum, i) => sum + i.unitPriceCents * i.quantity, 0);
    await deps.notify?.(unit, {
      userId: vendor.userId,
      type: 'order.paid',
      payload: { orderId: order.id, totalCents: subtotalCents, currency: order.currency },
    });
  }
}
