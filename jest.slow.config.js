const base = require('./jest.config.js');

/**
 * `npm run test:slow`: suites that need large data or real load (test/slow). Same harness as
 * the main run (embedded PostgreSQL, template database); `npm test` never runs these.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/slow'],
  testPathIgnorePatterns: ['/node_modules/'],
  // Seeding is bounded by each suite's own (generous) timeouts, not the main run's 60 s.
  testTimeout: 15 * 60_000,
};
