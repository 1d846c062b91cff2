import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const entriesOf = (file: string) =>
  readFileSync(path.join(root, file), 'utf8')
    .split('\n')
    .map((line) => line.trim().replace(/\/$/, ''))
    .filter((line) => line !== '' && !line.startsWith('#'));

it('the Docker build context leaves out everything git ignores (local .env, data, build output, CI artefacts)', () => {
  const dockerignore = new Set(entriesOf('.dockerignore'));
  expect(entriesOf('.gitignore').filter((entry) => !dockerignore.has(entry))).toEqual([]);
  expect([...dockerignore]).toEqual(expect.arrayContaining(['.env', 'node_modules', 'artifacts']));
});
