import { z } from 'zod';
import { FulfilmentUpdateBody, VendorOrderList, VendorOrderListQuery, VendorOrderView } from '../../../shared/contracts';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import { uuidParam } from '../../lib/validate';
import { advanceFulfilment, type FulfilmentDeps, listOrdersOfVendor } from './fulfilment';

const OrderIdParams = z.object({ orderId: uuidParam });

export function vendorOrdersRoutes(deps: FulfilmentDeps): Route[] {
  return [
    defineRoute({
      operationId: 'listMyStoreOrders',
      method: 'get',
      path: '/api/vendors/me/orders',
      tag: 'orders',
      summary: "My store's orders: only my lines, my subtotal and my part's fulfilment",
      auth: { roles: ['vendor'] },
      limit: ['reads'],
      query: VendorOrderListQuery,
      responses: { 200: json('Newest first; `nextCursor` is null on the last page', VendorOrderList) },
      handler: async ({ user, query }) => reply(200, await listOrdersOfVendor(deps, user.id, query)),
    }),

    defineRoute({
      operationId: 'advanceMyStoreOrder',
      method: 'patch',
      path: '/api/vendors/me/orders/:orderId',
      tag: 'orders',
      summary: 'Move my part of an order one step: paid → processing → shipped (carrier and tracking number) → delivered',
      auth: { roles: ['vendor'] },
      limit: ['writes'],
      params: OrderIdParams,
      body: FulfilmentUpdateBody,
      responses: {
        200: json(
          "My part moved; the order shows the least advanced of its stores' parts; the buyer is mailed and notified",
          z.object({ order: VendorOrderView }),
        ),
        404: errors('No such order with lines of my store', 'not_found'),
        409: errors(
          'The order is not being fulfilled (unpaid, cancelled, refunded, in review…), or the step skips or goes back (`details`: current and requested)',
          'order_not_fulfillable',
          'invalid_transition',
        ),
      },
      handler: async ({ user, params, body }) => reply(200, { order: await advanceFulfilment(deps, user.id, params.orderId, body) }),
    }),
  ];
}
