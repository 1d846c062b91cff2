import { z } from 'zod';
import * as c from '../../../shared/contracts';

/**
 * The HTTP API, route by route, built from the same zod contracts the routes validate with.
 * The OpenAPI document is generated from this table, and a test checks the table against
 * the routes Express actually has, so neither can drift from the other.
 */
export interface ApiRoute {
  method: 'get' | 'head' | 'post' | 'patch' | 'delete';
  /** OpenAPI path syntax (`{id}`). */
  path: string;
  tag: string;
  summary: string;
  signedIn?: boolean;
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Request body media type (default application/json). */
  bodyType?: string;
  /** Response body for the success status (`status`, default 200). */
  response?: z.ZodType;
  status?: number;
  /** Non-JSON success response (e.g. object bytes, Prometheus text). */
  contentType?: string;
}

const Id = z.object({ id: z.uuid() });
const Health = z.object({ status: z.enum(['ok', 'degraded', 'down']) }).catchall(z.unknown());
const Json = z.record(z.string(), z.unknown());
const ObjectPath = z.object({ path: z.string().describe('Object path inside the bucket (validated: no traversal)') });
const Upload = z.object({ file: z.string().describe('The file (multipart field `file`, streamed; type checked by its bytes)') });

export const apiRoutes: ApiRoute[] = [
  { method: 'get', path: '/api/health', tag: 'health', summary: 'Health of every component (503 when the database is unreachable)', response: Health },
  { method: 'get', path: '/api/health/live', tag: 'health', summary: 'Liveness probe', response: Json },
  { method: 'get', path: '/api/health/ready', tag: 'health', summary: 'Readiness probe (503 with reasons)', response: Json },
  { method: 'get', path: '/api/health/ws-stats', tag: 'health', summary: 'WebSocket connection and message counters', response: c.WsStats },
  { method: 'get', path: '/metrics', tag: 'health', summary: 'Prometheus metrics', contentType: 'text/plain' },
  { method: 'get', path: '/api/openapi.json', tag: 'docs', summary: 'This document', response: Json },

  { method: 'post', path: '/api/auth/register', tag: 'auth', summary: 'Create an account and sign in', body: c.RegisterBody, response: z.object({ user: c.UserView }), status: 201 },
  { method: 'post', path: '/api/auth/login', tag: 'auth', summary: 'Sign in (new session id)', body: c.LoginBody, response: z.object({ user: c.UserView }) },
  { method: 'post', path: '/api/auth/logout', tag: 'auth', summary: 'Sign out (session destroyed)', status: 204 },
  { method: 'get', path: '/api/auth/me', tag: 'auth', summary: 'The signed-in user', signedIn: true, response: z.object({ user: c.UserView }) },

  { method: 'post', path: '/api/vendors', tag: 'catalogue', summary: 'Open a store (become a vendor)', signedIn: true, body: c.CreateVendorBody, response: z.object({ vendor: c.VendorView }), status: 201 },
  { method: 'get', path: '/api/vendors/{id}', tag: 'catalogue', summary: 'A store with its product count (cached)', params: Id, response: z.object({ vendor: c.VendorView }) },
  { method: 'get', path: '/api/products', tag: 'catalogue', summary: 'Search and list products (keyset cursor, cached)', query: c.ProductListQuery, response: c.ProductPage },
  { method: 'get', path: '/api/products/{id}', tag: 'catalogue', summary: 'A product (cached)', params: Id, response: z.object({ product: c.ProductView }) },
  { method: 'post', path: '/api/products', tag: 'catalogue', summary: 'List a product (vendors)', signedIn: true, body: c.CreateProductBody, response: z.object({ product: c.ProductView }), status: 201 },
  { method: 'patch', path: '/api/products/{id}', tag: 'catalogue', summary: 'Change a product (its vendor only)', signedIn: true, params: Id, body: c.UpdateProductBody, response: z.object({ product: c.ProductView }) },
  { method: 'delete', path: '/api/products/{id}', tag: 'catalogue', summary: 'Remove a product (soft delete, its vendor only)', signedIn: true, params: Id, status: 204 },

  { method: 'post', path: '/api/orders', tag: 'orders', summary: 'Place an order (stock reserved atomically)', signedIn: true, body: c.PlaceOrderBody, response: z.object({ order: c.OrderView }), status: 201 },
  { method: 'get', path: '/api/orders', tag: 'orders', summary: 'My orders', signedIn: true, query: c.OrderListQuery, response: z.object({ items: z.array(c.OrderView) }) },
  { method: 'get', path: '/api/orders/{id}', tag: 'orders', summary: 'An order (its buyer or a vendor of its items)', signedIn: true, params: Id, response: z.object({ order: c.OrderView }) },
  { method: 'post', path: '/api/orders/{id}/cancel', tag: 'orders', summary: 'Cancel an unpaid order (stock released)', signedIn: true, params: Id, response: z.object({ order: c.OrderView }) },
  { method: 'post', path: '/api/orders/{id}/payment-intent', tag: 'orders', summary: 'Stripe PaymentIntent for a card order (idempotent)', signedIn: true, params: Id, response: c.PaymentIntentView },
  { method: 'post', path: '/api/stripe/webhook', tag: 'orders', summary: 'Stripe webhook (signature verified, each event once)', body: Json, response: z.object({ received: z.boolean(), duplicate: z.boolean() }) },

  { method: 'get', path: '/api/crypto/rates', tag: 'crypto', summary: 'Crypto rates with tier, age and source', query: c.RatesQuery, response: c.RatesResponse },
  { method: 'get', path: '/api/crypto/quote', tag: 'crypto', summary: 'An amount in a coin (15-minute quote)', query: c.QuoteQuery, response: c.QuoteResponse },

  { method: 'post', path: '/api/uploads', tag: 'objects', summary: 'Upload a file (multipart, streamed; public needs a vendor)', signedIn: true, query: c.UploadQuery, body: Upload, bodyType: 'multipart/form-data', response: c.UploadResult, status: 201 },
  { method: 'get', path: '/objects/public/{path}', tag: 'objects', summary: 'Download a public object (Range, ETag, conditional GET, CDN caching; HEAD too)', params: ObjectPath, contentType: 'application/octet-stream' },
  { method: 'get', path: '/objects/private/{path}', tag: 'objects', summary: 'Download a private object (owner only; others 404)', signedIn: true, params: ObjectPath, contentType: 'application/octet-stream' },

  { method: 'get', path: '/api/messages', tag: 'realtime', summary: 'Chat history with one user', signedIn: true, query: c.MessageHistoryQuery, response: c.MessageHistoryResponse },
  { method: 'post', path: '/api/messages/read', tag: 'realtime', summary: 'Mark a conversation read', signedIn: true, body: c.MarkReadBody, response: c.MarkReadResponse },
  { method: 'get', path: '/api/conversations', tag: 'realtime', summary: 'My conversations with last message and unread count', signedIn: true, query: c.ConversationsQuery, response: c.ConversationsResponse },
  { method: 'get', path: '/api/notifications', tag: 'realtime', summary: 'My notifications', signedIn: true, query: c.NotificationsQuery, response: c.NotificationsResponse },
  { method: 'post', path: '/api/notifications/{id}/read', tag: 'realtime', summary: 'Mark a notification read', signedIn: true, params: Id, response: c.NotificationResponse },
];

