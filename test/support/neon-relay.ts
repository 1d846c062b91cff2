import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { WebSocketServer } from 'ws';

export interface NeonRelay {
  /** Value for `neonWsProxy` / NEON_WS_PROXY. */
  proxy: string;
  close(): Promise<void>;
}

/**
 * The WebSocket-to-TCP relay Neon documents for local development: each WebSocket at
 * `/v2?address=host:port` becomes a raw TCP connection to Postgres, bytes passed both ways.
 * Lets the real Neon serverless driver talk to the embedded PostgreSQL.
 */
export async function startNeonRelay(): Promise<NeonRelay> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/v2' });
  wss.on('connection', (socket, req) => {
    const address = new URL(req.url ?? '', 'http://relay').searchParams.get('address') ?? '';
    const [host, port] = address.split(':');
    const tcp = net.connect(Number(port), host ?? '127.0.0.1');
    tcp.on('data', (data) => socket.send(data));
    tcp.on('close', () => socket.close());
    tcp.on('error', () => socket.terminate());
    socket.on('message', (data) => tcp.write(data as Buffer));
    socket.on('close', () => tcp.destroy());
    socket.on('error', () => tcp.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    proxy: `127.0.0.1:${port}/v2`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
