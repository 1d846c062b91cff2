import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';

/*
 * dependency-cruiser (npm run lint) refuses a module importing another module's table file.
 * Raw SQL escapes it (`sql\`UPDATE products …\``), so this test reads the SQL itself: every
 * table named after FROM / JOIN / UPDATE / INTO in server code must belong to the file's owner.
 */
const root = path.resolve(__dirname, '../../..');
const schemaDir = path.join(root, 'shared/schema');

/** Owner (schema file name) → the tables it defines. */
function tablesByOwner(): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const file of readdirSync(schemaDir)) {
    if (file === 'index.ts' || file === 'columns.ts') continue;
    const exported = require(path.join(schemaDir, file)) as Record<string, unknown>;
    const tables = Object.values(exported)
      .filter((value) => is(value, PgTable))
      .map((table) => getTableName(table as PgTable));
    owners.set(file.replace(/\.ts$/, ''), tables);
  }
  return owners;
}

/** The owner a server file speaks for: its module folder, or the rate limiter for rate_limits. */
function ownerOf(file: string): string | undefined {
  const relative = path.relative(path.join(root, 'server'), file).split(path.sep);
  if (relative[0] === 'modules') return relative[1];
  if (['lib/rate-limit.ts', 'lib/rate-limit-batcher.ts'].includes(relative.join('/'))) return 'rate-limits';
  return undefined;
}

function serverFiles(dir = path.join(root, 'server')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? serverFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Table names that raw SQL in `source` reads or writes. */
function tablesNamedIn(source: string, known: readonly string[]): string[] {
  const named = new Set<string>();
  for (const match of source.matchAll(/\b(?:FROM|JOIN|UPDATE|INTO|TABLE)\s+"?([a-z_][a-z0-9_]*)"?/gi)) {
    const table = match[1]!.toLowerCase();
    if (known.includes(table)) named.add(table);
  }
  return [...named];
}

describe('table ownership', () => {
  const owners = tablesByOwner();
  const allTables = [...owners.values()].flat();
  const ownerOfTable = new Map([...owners].flatMap(([owner, tables]) => tables.map((t) => [t, owner] as const)));

  it('every table is defined in exactly one owner file', () => {
    expect(new Set(allTables).size).toBe(allTables.length);
    expect(allTables).toEqual(expect.arrayContaining(['users', 'products', 'orders', 'email_outbox', 'rate_limits']));
  });

  it("the README's who-owns-what table lists exactly these owners and tables", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| owner (module) |'));
    const rows = table
      .split('\n')
      .slice(2)
      .filter((line) => line.startsWith('| '));
    const documented = new Map(
      rows.map((line) => {
        const [owner, tables] = line
          .split('|')
          .slice(1, 3)
          .map((cell) => cell.trim());
        return [owner!.split(' ')[0]!, [...tables!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!).sort()] as const;
      }),
    );
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries([...owners].map(([owner, tables]) => [owner, [...tables].sort()])));
  });

  it('the scanner sees raw SQL naming a table (so the next test can fail)', () => {
    expect(tablesNamedIn('UPDATE products p SET stock = 1 FROM order_items oi JOIN "users" u', allTables).sort()).toEqual([
      'order_items',
      'products',
      'users',
    ]);
  });

  it("no server file names another owner's table in SQL", () => {
    const trespasses: string[] = [];
    for (const file of serverFiles()) {
      const owner = ownerOf(file);
      for (const table of tablesNamedIn(readFileSync(file, 'utf8'), allTables)) {
        if (ownerOfTable.get(table) !== owner) {
          trespasses.push(`${path.relative(root, file)} names ${table} (owned by ${ownerOfTable.get(table)})`);
        }
      }
    }
    expect(trespasses).toEqual([]);
  });
});
