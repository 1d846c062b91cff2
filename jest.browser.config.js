const base = require('./jest.config.js');

/**
 * `npm run test:browser`: a storefront page in headless Chromium (/usr/bin/chromium, Debian's
 * package) on another origin than the API. Same harness as the main run (embedded PostgreSQL,
 * template database, contract check); `npm test` never runs these.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120_000,
};
