/*
 * The architecture's import rules (`npm run lint:deps`). A module is a folder under
 * server/modules/; its index.ts is its public face. Each table file in shared/schema/ is named
 * after the one module that owns it (rate-limits.ts belongs to server/lib/rate-limit.ts).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-module-internals',
      comment: "A module may use another module only through that module's index.ts.",
      severity: 'error',
      from: { path: '^server/modules/([^/]+)/' },
      to: { path: '^server/modules/([^/]+)/', pathNot: ['^server/modules/$1/', '^server/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-foreign-tables',
      comment: "A module touches only its own tables (shared/schema/<module>.ts); another module's rows are reached through that module's index.ts.",
      severity: 'error',
      from: { path: '^server/modules/([^/]+)/' },
      to: { path: '^shared/schema/', pathNot: ['^shared/schema/$1\\.ts$', '^shared/schema/columns\\.ts$'] },
    },
    {
      name: 'tables-only-in-repositories',
      comment: 'Only a repository speaks SQL: services and routes call their repository.',
      severity: 'error',
      from: { path: '^server/modules/', pathNot: '\\.repository\\.ts$' },
      to: { path: '^shared/schema/' },
    },
    {
      name: 'rate-limit-table-owner',
      comment: 'rate_limits belongs to the rate limiter.',
      severity: 'error',
      from: { path: '^(server|scripts)/', pathNot: '^server/lib/rate-limit\\.ts$' },
      to: { path: '^shared/schema/rate-limits\\.ts$' },
    },
    {
      name: 'no-schema-index-in-server',
      comment: 'Server code imports the owning table file, never the index of every table (drizzle-kit and tests may).',
      severity: 'error',
      from: { path: '^(server|scripts)/' },
      to: { path: '^shared/schema/index\\.ts$' },
    },
    {
      name: 'plumbing-knows-no-module',
      comment: 'server/lib and server/db are cross-cutting plumbing: modules import them, never the reverse.',
      severity: 'error',
      from: { path: '^server/(lib|db)/' },
      to: { path: '^server/modules/' },
    },
    {
      name: 'no-server-in-shared',
      comment: 'shared/ (schema, contracts, enums) is used by server, tests and tools; it depends on none of them.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(server|test|scripts|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
