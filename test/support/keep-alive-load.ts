import http from 'node:http';

export interface LoadOutcome {
  status: number;
  connection?: string;
  error?: string;
}

function get(agent: http.Agent, url: URL, path: string): Promise<LoadOutcome> {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, method: 'GET', path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      res.on('error', (error) => resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    });
    req.on('error', (error) => resolve({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

/**
 * `clients` callers, each on its own keep-alive connection, each sending its next request the
 * moment the previous answer arrives, so about `clients` requests are always in flight, and
 * a request often crosses the server's decision to close an idle connection (the reset a drain
 * must avoid). `onSteady` runs once every caller has been answered at least once. A caller
 * stops, as a load balancer does, when an answer says `Connection: close` or its request fails.
 */
export async function keepAliveLoad(
  baseUrl: string,
  options: { clients: number; path: string; onSteady: () => void },
): Promise<LoadOutcome[]> {
  const url = new URL(baseUrl);
  const outcomes: LoadOutcome[] = [];
  let answered = 0;
  const callers = Array.from({ length: options.clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let first = true; ; first = false) {
        const outcome = await get(agent, url, options.path);
        outcomes.push(outcome);
        if (first && ++answered === options.clients) options.onSteady();
        if (outcome.error || outcome.connection === 'close') return;
      }
    } finally {
      agent.destroy();
    }
  });
  await Promise.all(callers);
  return outcomes;
}
