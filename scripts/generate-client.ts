import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/*
 * `npm run client:generate`: TypeScript types for the API from the OpenAPI document the app
 * serves (written by scripts/write-openapi.ts, path given as the argument), for openapi-fetch.
 * The result is committed; a test regenerates it from the served document and fails on any
 * difference, so the document and the client cannot drift apart. A declaration file (.d.ts) because
 * openapi-typescript 6 writes index signatures TypeScript rejects for objects with extra numeric
 * keys (the rates map); skipLibCheck leaves declaration files unchecked, the types stay usable.
 */
export const CLIENT_TYPES_FILE = path.join(__dirname, '..', 'test', 'browser', 'storefront', 'api-types.d.ts');

export async function clientTypesFor(document: Record<string, unknown>): Promise<string> {
  // import(): the package's CommonJS entry ships no type declarations, its ESM entry does (same function).
  const { default: openapiTS } = await import('openapi-typescript');
  return openapiTS(document as unknown as Parameters<typeof openapiTS>[0]);
}

if (require.main === module) {
  const source = process.argv[2];
  if (!source) throw new Error('usage: tsx scripts/generate-client.ts <openapi.json>');
  void clientTypesFor(JSON.parse(readFileSync(source, 'utf8'))).then((types) => {
    writeFileSync(CLIENT_TYPES_FILE, types);
    console.log(`${path.relative(process.cwd(), CLIENT_TYPES_FILE)} written from ${source}`);
  });
}
