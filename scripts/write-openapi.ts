import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../server/app';
import { createDatabase } from '../server/db';
import { buildOpenApiDocument } from '../server/modules/docs';
import { loadConfig } from '../server/lib/config';
import { createLogger } from '../server/lib/logger';

/*
 * Writes the OpenAPI document the app serves at /api/openapi.json to a file (default: a temp
 * file) and prints its path. The app is built but never started: no database is contacted.
 */
const DATABASE_URL = 'postgres://docs@127.0.0.1:9/docs';
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL, DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'mp-openapi-')) });
const logger = createLogger({ config, console: false });
const database = createDatabase(
  {
    connectionString: DATABASE_URL,
    driver: 'pg',
    max: 1,
    min: 0,
    idleTimeoutMillis: 1_000,
    connectionTimeoutMillis: 1_000,
    maxUses: 1,
    statementTimeoutMillis: 1_000,
    applicationName: 'write-openapi',
  },
  logger,
);
const app = createApp({ config, logger, database, sessionDatabase: database });
const target = process.argv[2] ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-openapi-')), 'openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(app.routes, { version: '1.0.0' }), null, 2)}\n`);
console.log(target);
// Built, never started: nothing to stop but timers the stores set up at construction.
process.exit(0);
