import pg from 'pg';
import { serverProcessesOnOwnDatabase } from '../../support/server-process';

/*
 * pg-boss marks a finished job complete without awaiting the statement. When that statement
 * fails (here a trigger refuses it; in life, the database dropping at that instant), the
 * rejection is held by nobody: the real server must log it and keep serving, not exit.
 */
const servers = serverProcessesOnOwnDatabase();

it('a job whose completion the database refuses is logged, and the server keeps serving', async () => {
  const server = await servers.spawn({ JOBS_POLL_INTERVAL_MS: '500' });
  await server.waitForOutput('[SERVER] Ready at');
  const db = new pg.Client({ connectionString: servers.databaseUrl() });
  await db.connect();
  try {
    await db.query(`
      CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'completion refused (test)'; END $$;
      CREATE TRIGGER refuse_completion BEFORE UPDATE ON pgboss.job FOR EACH ROW
      WHEN (NEW.name = 'email-send' AND NEW.state = 'completed') EXECUTE FUNCTION refuse_completion();`);
  } finally {
    await db.end();
  }
  // The welcome mail is a job: sent (to the log), then marked complete — which is refused.
  const registered = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `kept-${Date.now()}@example.com`, password: 'plum orchard lantern 42', name: 'Kept' }),
  });
  expect(registered.status).toBe(201);
  await server.waitForOutput(/\[PROCESS\] Unhandled rejection, kept running: .*a query failed \(SQLSTATE P0001\)/);
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
  server.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});
