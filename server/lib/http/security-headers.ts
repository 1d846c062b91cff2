import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/*
 * helmet's headers, computed by helmet itself once at startup. With its defaults (no CSP nonce,
 * nothing read from the request) they are the same for every response, and setting them from a
 * list costs a dozen setHeader calls instead of helmet's chain of a dozen middleware per request
 * (measured on the cached catalogue read, bench/README.md).
 */
export function helmetHeaders(options?: Readonly<HelmetOptions>): HeaderList {
  // A directive given as a function (a CSP nonce) is computed per request: that cannot be a list.
  if (holdsFunction(options)) throw new Error("helmet's headers cannot be computed once: a directive is computed per request");
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
    },
    removeHeader() {},
    getHeader: () => undefined,
  };
  let failure: unknown;
  let done = false;
  helmet(options)({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
    done = true;
  });
  // A helmet that needs the request (a nonce, an async directive) cannot be precomputed.
  if (!done || failure) throw new Error(`helmet's headers cannot be computed once: ${failure ?? 'it did not finish synchronously'}`);
  return headers;
}

function holdsFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsFunction);
}
