import { keepAliveLoad, type LoadOutcome } from '../../support/keep-alive-load';
import { serverProcessesOnOwnDatabase } from '../../support/server-process';

const servers = serverProcessesOnOwnDatabase();

// A reset is a race; one clean run proves little. Ten in a row, each a fresh process under load.
it('SIGTERM under 200 keep-alive callers, 10 times: 0 resets and 0 non-2xx across all runs, every exit 0', async () => {
  const failed: Array<{ run: number } & LoadOutcome> = [];
  const codes: Array<number | null> = [];
  let requests = 0;
  for (let run = 1; run <= 10; run++) {
    const current = await servers.spawn({
      RATE_LIMIT_READS_PER_MIN: '1000000',
      RATE_LIMIT_WRITES_PER_MIN: '1000000',
    });
    await current.waitForOutput('[SERVER] Ready at', 30_000);
    const outcomes = await keepAliveLoad(current.url, {
      clients: 200,
      path: '/api/products',
      onSteady: () => current.kill('SIGTERM'),
    });
    requests += outcomes.length;
    failed.push(...outcomes.filter((o) => o.status < 200 || o.status > 299).map((o) => ({ run, ...o })));
    codes.push((await current.exited).code);
  }
  expect(failed).toEqual([]);
  expect(codes).toEqual(Array(10).fill(0));
  expect(requests).toBeGreaterThanOrEqual(10 * 400);
}, 300_000);
