import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL from the schema; it needs no database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './shared/schema/index.ts',
  out: './migrations',
});
