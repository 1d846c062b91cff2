/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/slow (100k-row seeds, real load) runs only under `npm run test:slow` (jest.slow.config.js), test/browser
  // (headless Chromium) only under `npm run test:browser` (jest.browser.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/slow/', '<rootDir>/test/browser/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    // ESM-only dependencies (file-type and its own, the Scalar page writer) are compiled to CommonJS for jest's module system;
    // at run time (tsx, compiled build) Node loads them natively through import().
    '/node_modules/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@scalar/express-api-reference|@scalar/core|file-type|strtok3|token-types|uint8array-extras|@tokenizer/inflate|@borewit/text-codec)/)'],
  // file-type's package exports offer only `import` for Node; point jest at that entry.
  moduleNameMapper: { '^file-type$': '<rootDir>/node_modules/file-type/index.js' },
  // One embedded PostgreSQL per run with a migrated template; each test file clones it.
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  // After each file: every response its test apps gave must match the OpenAPI document.
  setupFilesAfterEnv: ['<rootDir>/test/support/contract-check.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
  // Unwanted handles (timers, sockets) should fail loudly rather than hang the run.
  forceExit: false,
};
