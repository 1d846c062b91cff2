import { z } from 'zod';
import {
  AdminOrder,
  AuditLogPage,
  AuditLogQuery,
  RefundView,
  ResolveOrderBody,
  UserStandingView,
  VendorStandingView,
} from '../../../shared/contracts';
import { orderStatuses } from '../../../shared/enums';
import { defineRoute, errors, json, type Route, reply } from '../../lib/http/define-route';
import { uuidParam } from '../../lib/validate';
import { type AdminDeps, acceptReviewOrder, readAuditLog, refundReviewOrder, setUserSuspended, setVendorSuspended } from './admin.service';

const IdParams = z.object({ id: uuidParam });
const ADMIN = { roles: ['admin'] } as const;
const AdminOrdersQuery = z.object({
  status: z.enum(orderStatuses).optional(),
  limit: AuditLogQuery.shape.limit,
  // The orders module pages by the last order's id.
  cursor: uuidParam.optional(),
});
const forbiddenToOthers = errors('Signed in, but not an admin', 'forbidden');

export function adminRoutes(deps: AdminDeps): Route[] {
  const suspension = (target: 'users' | 'vendors', action: 'suspend' | 'reinstate') => {
    const suspended = action === 'suspend';
    const Standing = target === 'users' ? UserStandingView : VendorStandingView;
    const noun = target === 'users' ? 'user' : 'store';
    return defineRoute({
      operationId: `${action}${target === 'users' ? 'User' : 'Vendor'}`,
      method: 'post',
      path: `/api/admin/${target}/:id/${action}`,
      tag: 'admin',
      summary:
        target === 'users'
          ? suspended
            ? 'Suspend a user: their sessions are revoked and they cannot sign in (audited)'
            : 'Reinstate a suspended user (audited)'
          : suspended
            ? 'Suspend a store: it and its products vanish from every listing and cache at once, and it cannot sell (audited)'
            : 'Reinstate a suspended store (audited)',
      auth: ADMIN,
      limit: ['writes'],
      params: IdParams,
      responses: {
        200: json(`The ${noun} before and after`, z.object({ before: Standing, after: Standing })),
        403: forbiddenToOthers,
        404: errors(`No such ${noun}`, 'not_found'),
        ...(target === 'users' ? { 409: errors('Admins cannot suspend or reinstate themselves', 'cannot_suspend_self') } : {}),
      },
      async handler({ user, params }) {
        const change =
          target === 'users'
            ? await setUserSuspended(deps, user.id, params.id, suspended)
            : await setVendorSuspended(deps, user.id, params.id, suspended);
        return reply(200, change);
      },
    });
  };

  return [
    defineRoute({
      operationId: 'listAdminOrders',
      method: 'get',
      path: '/api/admin/orders',
      tag: 'admin',
      summary: 'Every order, newest first, by status (e.g. `review`: paid after expiry or the wrong amount)',
      auth: ADMIN,
      limit: ['reads'],
      query: AdminOrdersQuery,
      responses: {
        200: json('A page of orders', z.object({ items: z.array(AdminOrder), nextCursor: z.string().nullable() })),
        403: forbiddenToOthers,
      },
      async handler({ query }) {
        const page = await deps.orders.listOrdersForAdmin(query);
        return reply(200, { items: page.orders, nextCursor: page.nextCursor });
      },
    }),

    defineRoute({
      operationId: 'resolveReviewOrder',
      method: 'post',
      path: '/api/admin/orders/:id/resolve',
      tag: 'admin',
      summary:
        'Resolve an order in review: `accept` (paid; its stock is taken again) or `refund` (through its payment provider; refunded) — audited',
      auth: ADMIN,
      limit: ['writes'],
      params: IdParams,
      body: ResolveOrderBody,
      responses: {
        200: json(
          'The order as resolved, and the refund when there was one',
          z.object({ order: AdminOrder, refund: RefundView.nullable() }),
        ),
        403: forbiddenToOthers,
        404: errors('No such order', 'not_found'),
        409: errors(
          'The order is not in review, there is not enough stock left to accept it (refund it instead), or it has no payment to refund',
          'order_not_in_review',
          'invalid_transition',
          'insufficient_stock',
          'not_refundable',
        ),
        503: errors('The payment provider could not be reached to refund; nothing changed', 'payment_provider_unavailable'),
      },
      async handler({ user, params, body }) {
        if (body.action === 'accept') {
          const { after } = await acceptReviewOrder(deps, user.id, params.id);
          return reply(200, { order: after, refund: null });
        }
        return reply(200, await refundReviewOrder(deps, user.id, params.id));
      },
    }),

    suspension('users', 'suspend'),
    suspension('users', 'reinstate'),
    suspension('vendors', 'suspend'),
    suspension('vendors', 'reinstate'),

    defineRoute({
      operationId: 'readAuditLog',
      method: 'get',
      path: '/api/admin/audit-log',
      tag: 'admin',
      summary: 'What admins did, newest first: who, what, on which record, before and after',
      auth: ADMIN,
      limit: ['reads'],
      query: AuditLogQuery,
      responses: {
        200: json('A page of audit entries', AuditLogPage),
        400: errors('A cursor this API did not issue', 'invalid_cursor'),
        403: forbiddenToOthers,
      },
      handler: async ({ query }) => reply(200, await readAuditLog(deps, query)),
    }),
  ];
}
