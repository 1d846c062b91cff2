/**
 * What production needs of a shop that takes only crypto and writes its mail to the log: no
 * Stripe or Brevo key (STRIPE_ENABLED=false, EMAIL_DRIVER=log). Tests add a database, an origin,
 * a proxy rule or keys to it.
 */
export const CRYPTO_ONLY_PRODUCTION_ENV = {
  NODE_ENV: 'production',
  SESSION_SECRET: 'Zq8v3L1mN0pR6tY2wE5uI9oA4sD7fG1hJ3kL5zX8cV',
  PUBLIC_BASE_URL: 'https://api.shop.example.com',
  PUBLIC_OBJECT_SEARCH_PATHS: '/shop-assets/public',
  PRIVATE_OBJECT_DIR: '/shop-private/uploads',
  STRIPE_ENABLED: 'false',
  EMAIL_DRIVER: 'log',
} as const;
