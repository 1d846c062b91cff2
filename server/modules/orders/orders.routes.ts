import { z } from 'zod';
import { OrderListQuery, OrderView, PlaceOrderBody } from '../../../shared/contracts';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import { uuidParam } from '../../lib/validate';
import { IDEMPOTENCY_KEY_HEADER, IdempotencyHeaders, idempotentRequestOf, REPLAYED_HEADER } from './order-idempotency';
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
      requestHeaders: IdempotencyHeaders,
      responses: {
        201: json(
          'The order, pending payment until it expires; or, for a known Idempotency-Key and the same body, the first answer again',
          OrderResponse,
          {
            [REPLAYED_HEADER]: {
              description: '`true` when this is the answer stored under the Idempotency-Key (no new order was placed)',
              schema: { type: 'string' },
            },
          },
        ),
        400: errors(
          'Items priced in several currencies, a total too large, or a malformed Idempotency-Key',
          'mixed_currency',
          'order_too_large',
          'invalid_idempotency_key',
        ),
        404: errors('A product does not exist', 'product_not_found'),
        409: errors(
          'A product has less stock than ordered, a price changed while a crypto order was being quoted (nothing is reserved), or the buyer already holds ORDER_MAX_OPEN_UNPAID unpaid orders',
          'insufficient_stock',
          'price_changed',
          'too_many_open_orders',
        ),
        422: errors(
          'More of one product than one order may take (ORDER_MAX_QUANTITY_PER_PRODUCT, repeated lines summed), or the Idempotency-Key was used for a different body in the last 24 h',
          'quantity_limit',
          'idempotency_key_reused',
        ),
        503: errors(
          'Card payments are off (STRIPE_ENABLED=false), crypto payments are off, or no recent rate for the coin',
          'card_payments_unavailable',
          'crypto_payments_unavailable',
          'crypto_rates_unavailable',
        ),
      },
      async handler({ req, user, body }) {
        const placed = await placeOrder(deps, user.id, body, idempotentRequestOf(req.get(IDEMPOTENCY_KEY_HEADER), body));
        // Only a placed order's 201 is ever stored, so a replay is one too.
        const answer = placed.body as { order: OrderView };
        return placed.replayed ? reply(201, answer, { [REPLAYED_HEADER]: 'true' }) : reply(201, answer);
      },
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
