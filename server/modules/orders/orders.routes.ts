import { z } from 'zod';
import { OrderListQuery, OrderView, PlaceOrderBody } from '../../../shared/contracts';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import { uuidParam } from '../../lib/validate';
import { cancelOrder, listMyOrders, type OrdersDeps, placeOrder, viewOrder } from './orders.service';

const IdParams = z.object({ id: uuidParam });
const OrderResponse = z.object({ order: OrderView });

export function ordersRoutes(deps: OrdersDeps): Route[] {
  return [
    defineRoute({
      operationId: 'placeOrder',
      method: 'post',
      path: '/api/orders',
      tag: 'orders',
      summary: 'Place an order (stock reserved atomically)',
      auth: 'user',
      limit: ['writes', 'orders'],
      body: PlaceOrderBody,
      responses: {
        201: json('The order, pending payment until it expires', OrderResponse),
        400: errors('Items priced in several currencies, or a total too large', 'mixed_currency', 'order_too_large'),
        404: errors('A product does not exist', 'product_not_found'),
        409: errors(
          'A product has less stock than ordered, a price changed while a crypto order was being quoted (nothing is reserved), or the buyer already holds ORDER_MAX_OPEN_UNPAID unpaid orders',
          'insufficient_stock',
          'price_changed',
          'too_many_open_orders',
        ),
        422: errors(
          'More of one product than one order may take (ORDER_MAX_QUANTITY_PER_PRODUCT, repeated lines summed)',
          'quantity_limit',
        ),
        503: errors(
          'Card payments are off (STRIPE_ENABLED=false), crypto payments are off, or no recent rate for the coin',
          'card_payments_unavailable',
          'crypto_payments_unavailable',
          'crypto_rates_unavailable',
        ),
      },
      handler: async ({ user, body }) => reply(201, { order: await placeOrder(deps, user.id, body) }),
    }),

    defineRoute({
      operationId: 'listMyOrders',
      method: 'get',
      path: '/api/orders',
      tag: 'orders',
      summary: 'My orders',
      auth: 'user',
      limit: ['reads'],
      query: OrderListQuery,
      responses: { 200: json('My orders, newest first', z.object({ items: z.array(OrderView) })) },
      handler: async ({ user, query }) => reply(200, { items: await listMyOrders(deps, user.id, query.limit) }),
    }),

    defineRoute({
      operationId: 'getOrder',
      method: 'get',
      path: '/api/orders/:id',
      tag: 'orders',
      summary: 'An order (its buyer, or a vendor of its items, who sees only their own lines)',
      auth: 'user',
      limit: ['reads'],
      params: IdParams,
      responses: {
        200: json('The order', OrderResponse),
        404: errors('No such order visible to me', 'not_found'),
      },
      handler: async ({ user, params }) => reply(200, { order: await viewOrder(deps, user.id, params.id) }),
    }),

    defineRoute({
      operationId: 'cancelOrder',
      method: 'post',
      path: '/api/orders/:id/cancel',
      tag: 'orders',
      summary: 'Cancel an unpaid order (stock released)',
      auth: 'user',
      limit: ['writes'],
      params: IdParams,
      responses: {
        200: json('The cancelled order', OrderResponse),
        404: errors('No such order of mine', 'not_found'),
        409: errors('The order is no longer pending', 'order_not_cancellable'),
      },
      handler: async ({ user, params }) => reply(200, { order: await cancelOrder(deps, user.id, params.id) }),
    }),
  ];
}
