import { escapeHtml, oneLine } from './mail-text';
import type { OutgoingEmail } from './outbox.repository';

export interface FulfilmentStep {
  orderId: string;
  vendorId: string;
  storeName: string;
  status: 'processing' | 'shipped' | 'delivered';
  carrier?: string | null;
  trackingNumber?: string | null;
}

const headline: Record<FulfilmentStep['status'], string> = {
  processing: 'is being prepared',
  shipped: 'has shipped',
  delivered: 'has been delivered',
};

/** Tells the buyer that one store's part of their order moved on (one mail per store and step). */
export function fulfilmentUpdateEmail(step: FulfilmentStep, buyer: { email: string; name: string }): OutgoingEmail {
  const lines = [
    `Hello ${buyer.name},`,
    `Your order ${step.orderId.slice(0, 8)} from ${step.storeName} ${headline[step.status]}.`,
    ...(step.status === 'shipped' ? [`Carrier: ${step.carrier ?? ''}`, `Tracking number: ${step.trackingNumber ?? ''}`] : []),
  ].map(oneLine);
  return {
    kind: `order_${step.status}`,
    dedupeKey: `order-fulfilment:${step.orderId}:${step.vendorId}:${step.status}`,
    toEmail: buyer.email,
    toName: oneLine(buyer.name),
    subject: oneLine(`Your order from ${step.storeName} ${headline[step.status]}`),
    text: lines.join('\n'),
    html: lines.map((l) => `<p>${escapeHtml(l)}</p>`).join(''),
  };
}
