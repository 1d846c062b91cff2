import { escapeHtml, oneLine } from './mail-text';
import type { OutgoingEmail } from './outbox.repository';

const money = (cents: number, currency: string) =>
  new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);

function mail(
  kind: string,
  dedupeKey: string,
  to: { email: string; name?: string | null },
  subject: string,
  lines: string[],
): OutgoingEmail {
  const body = lines.map(oneLine);
  return {
    kind,
    dedupeKey,
    toEmail: to.email,
    toName: to.name ? oneLine(to.name) : null,
    subject: oneLine(subject),
    text: body.join('\n'),
    html: body.map((l) => `<p>${escapeHtml(l)}</p>`).join(''),
  };
}

export function welcomeEmail(user: { id: string; email: string; name: string }): OutgoingEmail {
  return mail('welcome', `welcome:${user.id}`, user, 'Welcome to the marketplace', [
    `Hello ${user.name},`,
    'Your account is ready. Happy shopping!',
  ]);
}

export interface PaidOrder {
  id: string;
  totalCents: number;
  currency: string;
  items: Array<{ title: string; quantity: number; unitPriceCents: number; vendorId: string }>;
}

export function orderConfirmationEmail(order: PaidOrder, buyer: { email: string; name: string }): OutgoingEmail {
  return mail('order_confirmation', `order-paid-buyer:${order.id}`, buyer, `Order ${order.id.slice(0, 8)} confirmed`, [
    `Hello ${buyer.name},`,
    `We received your payment of ${money(order.totalCents, order.currency)}.`,
    ...order.items.map((i) => `${i.quantity} × ${i.title}`),
  ]);
}

export function vendorNewOrderEmail(
  order: PaidOrder,
  vendor: { id: string; email: string; name: string; storeName: string },
): OutgoingEmail {
  const mine = order.items.filter((i) => i.vendorId === vendor.id);
  return mail('vendor_new_order', `order-paid-vendor:${order.id}:${vendor.id}`, vendor, `New paid order for ${vendor.storeName}`, [
    `Hello ${vendor.name},`,
    `Order ${order.id.slice(0, 8)} has been paid. Please ship:`,
    ...mine.map((i) => `${i.quantity} × ${i.title}`),
  ]);
}
