/**
 * What production needs of a shop that takes only crypto and writes its mail to the log: no
 * Stripe or Brevo key (STRIPE_ENABLED=false, EMAIL_DRIVER=log), a BTCPay Server store (here a
 * closed local port; tests that take payments point BTCPAY_URL at test/support/fake-btcpay.ts).
 * Tests add a database, an origin, a proxy rule or keys to it.
 */
export const CRYPTO_ONLY_PRODUCTION_ENV = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV',
  PUBLIC_BASE_URL: 'https://api.shop.example.com',
  PUBLIC_OBJECT_SEARCH_PATHS: '/shop-assets/public',
  PRIVATE_OBJECT_DIR: '/shop-private/uploads',
  STRIPE_ENABLED: 'false',
  EMAIL_DRIVER: 'log',
  BTCPAY_URL: 'http://127.0.0.1:9',
  BTCPAY_API_KEY: 'btcpay-production-test-key',
  BTCPAY_STORE_ID: 'production-test-store',
  BTCPAY_WEBHOOK_SECRET: 'btcpay-production-webhook-secret',
} as const;
