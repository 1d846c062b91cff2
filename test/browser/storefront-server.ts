import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';

const STOREFRONT_DIR = path.join(__dirname, 'storefront');

export interface StorefrontServer {
  /** The page's origin, e.g. http://127.0.0.1:41234 (listen first: CORS_ORIGINS needs it). */
  origin: string;
  /** Which API the page talks to; set once the API is listening. */
  useApi(origin: string): void;
  close(): Promise<void>;
}

/**
 * Serves the storefront page and its script, bundled for the browser by esbuild (tsx's own
 * dependency: tsc type-checks the page but cannot bundle openapi-fetch into it), from an origin
 * of its own: another port than the API's.
 */
export async function startStorefrontServer(host = '127.0.0.1'): Promise<StorefrontServer> {
  const bundled = await build({
    entryPoints: [path.join(STOREFRONT_DIR, 'storefront.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  const script = bundled.outputFiles[0]?.text ?? '';
  const template = readFileSync(path.join(STOREFRONT_DIR, 'index.html'), 'utf8');
  let apiOrigin = '';
  const server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(template.replace('%API_ORIGIN%', apiOrigin));
    } else if (req.url === '/storefront.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    useApi(origin) {
      apiOrigin = origin;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
