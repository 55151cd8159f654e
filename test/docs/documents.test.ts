/** Every nova-ipmeta command line in the README and the admin guide is one the CLI accepts (see support/doc-commands.ts). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliProblem, invocationsIn } from '../support/doc-commands';

const read = (p: string) => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');

for (const doc of ['README.md', 'docs/admin-guide.md']) {
  test(`${doc}: every command line it shows is accepted by the CLI`, () => {
    const found = invocationsIn(read(doc));
    assert.ok(found.length >= (doc === 'README.md' ? 10 : 20), `${doc}: only ${found.length} command lines found`);
    const problems = found.flatMap((i) => {
      const problem = cliProblem(i.argv);
      return problem === undefined ? [] : [`${doc}:${i.line}: nova-ipmeta ${i.argv.join(' ')}: ${problem}`];
    });
    assert.equal(problems, []);
  });
}

test('the checker catches what it must', () => {
  assert.is(cliProblem(['list', '--csv']), 'unknown option --csv');
  assert.is(cliProblem(['frob']), 'no command "frob"');
  assert.is(cliProblem(['find', '--json']), 'missing WHAT');
  assert.is(cliProblem(['cache', 'sync', '--dry-run']), undefined);
  const table = invocationsIn('| command | what |\n|---|---|\n| `reconcile [--domain D]... [--check\\|--dry-run]` | x |\n');
  assert.equal(
    table.map((i) => i.argv.join(' ')).sort(),
    ['reconcile', 'reconcile --check', 'reconcile --domain D', 'reconcile --domain D --check', 'reconcile --domain D --dry-run', 'reconcile --dry-run'],
  );
});

test.run();
