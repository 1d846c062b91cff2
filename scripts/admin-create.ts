/*
 * `npm run admin:create -- --email someone@example.com [--password-stdin] [--name "Ada L."]`: the
 * only way to an admin. An existing account is promoted (and signed out everywhere: the role lives
 * in the session); a missing one is created only with --password-stdin, the password read from
 * stdin so it never shows in the process list or the shell history. Idempotent.
 */
import { parseArgs } from 'node:util';
import { loadConfig, readEnvironment } from '../server/lib/config';
import { AppError } from '../server/lib/errors';
import { createLogger } from '../server/lib/logger';
import { createOrPromoteAdmin } from '../server/modules/auth';
import { openOperatorDatabase } from './operator-database';

const USAGE = 'Usage: npm run admin:create -- --email someone@example.com [--password-stdin] [--name "Full Name"]';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` or a here-string adds, not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.email) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const password = values['password-stdin'] ? await readStdin() : undefined;
  const config = loadConfig(readEnvironment());
  const logger = createLogger({ config });
  const url = config.DATABASE_URL ?? `postgresql://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/marketplace`;
  const database = openOperatorDatabase(config, logger, {
    connectionString: url,
    applicationName: 'marketplace-admin-create',
    statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT,
  });
  try {
    const { outcome, user } = await createOrPromoteAdmin(database, { email: values.email, password, name: values.name });
    const said = {
      created: `Created admin ${user.email} (${user.id})`,
      promoted: `Promoted ${user.email} (${user.id}) to admin; their sessions were ended, they sign in again`,
      already_admin: `${user.email} (${user.id}) is already an admin; nothing changed`,
    }[outcome];
    process.stdout.write(`${said}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`admin:create failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
