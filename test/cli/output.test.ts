/** Listing output as the OpenStack client prints it: formats, columns, and nothing raw reaching a terminal. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatListing, type Column } from '../../src/cli/output';
import { UsageError } from '../../src/errors';
import { fixturePath, runInProcess } from '../support/cli';
import { standInDaemon } from '../support/stand-in-daemon';

interface Row {
  name: string;
  count: number | null;
  note: string | null;
}
const COLUMNS: Column<Row>[] = [
  { key: 'name', header: 'NAME', value: (r) => r.name },
  { key: 'count', header: 'COUNT', value: (r) => r.count },
  { key: 'note', header: 'NOTE', value: (r) => r.note, inTable: false },
];
const ROWS: Row[] = [
  { name: 'a', count: 1, note: 'x,"y"' },
  { name: 'bb\u001b[31m', count: null, note: null },
];
const args = (format: 'table' | 'json' | 'csv' | 'value', column: string[] = [], json = false) => ({ format, column, json });

test('table: headers, padding, - for nothing, wide columns left to -c; control characters escaped', () => {
  assert.is(formatListing(ROWS, COLUMNS, args('table')), 'NAME        COUNT\na           1\nbb\\x1b[31m  -\n');
  assert.is(formatListing(ROWS, COLUMNS, args('table', ['note'])), 'NOTE\nx,"y"\n-\n');
});

test('json: every column, nulls and numbers as they are, the escape kept as JSON escapes it', () => {
  assert.equal(JSON.parse(formatListing(ROWS, COLUMNS, args('json'))), [
    { name: 'a', count: 1, note: 'x,"y"' },
    { name: 'bb\u001b[31m', count: null, note: null },
  ]);
  assert.is(formatListing(ROWS, COLUMNS, args('table', [], true)), formatListing(ROWS, COLUMNS, args('json')), '--json is -f json');
  assert.is(formatListing([{ name: '\u009b', count: 0, note: null }], COLUMNS, args('json', ['name'])), '[\n  {\n    "name": "\\u009b"\n  }\n]\n');
});

test('csv (RFC 4180, keys as headers) and value (no header), in the order of -c', () => {
  assert.is(formatListing(ROWS, COLUMNS, args('csv')), 'name,count,note\r\na,1,"x,""y"""\r\nbb\\x1b[31m,,\r\n');
  assert.is(formatListing(ROWS, COLUMNS, args('value', ['COUNT', 'Name'])), '1 a\n bb\\x1b[31m\n');
});

test('an unknown column, or --json with another format: usage errors', () => {
  assert.throws(() => formatListing(ROWS, COLUMNS, args('table', ['size'])), (e: unknown) => e instanceof UsageError && e.message === '-c size: no such column; columns: name, count, note');
  assert.throws(() => formatListing(ROWS, COLUMNS, args('csv', [], true)), (e: unknown) => e instanceof UsageError && /exclude each other/.test(e.message));
});

test('list and show over real XML files: control characters in names never reach the terminal raw', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-output-'));
  let daemon: Awaited<ReturnType<typeof standInDaemon>> | undefined;
  try {
    const [live, persistent] = [join(root, 'live'), join(root, 'persistent')];
    mkdirSync(live);
    mkdirSync(persistent);
    daemon = await standInDaemon(live);
    // What XML lets a name hold: DEL, the C1 controls (U+009B is a terminal's CSI), TAB, line breaks.
    const hostile = 'x\u009b31m\u007f\u0085\t&#10;y';
    const xml = readFileSync(fixturePath('domains/wallaby-nova-ports.xml'), 'utf8')
      .replace('<name>instance-0000002b</name>', `<name>vm${hostile}</name>`)
      .replace('<nova:name>db-1</nova:name>', `<nova:name>db${hostile}</nova:name>`);
    writeFileSync(join(persistent, 'vm.xml'), xml);
    const where = ['--live-xml-dir', live, '--persistent-xml-dir', persistent, '--config', join(root, 'none.conf')];
    writeFileSync(join(root, 'none.conf'), '');
    const escaped = 'x\\x9b31m\\x7f\\x85\\x09\\x0ay';
    for (const format of ['table', 'csv', 'value']) {
      const r = await runInProcess(['list', '-f', format, ...where]);
      assert.is(r.code, 0, r.stderr);
      // eslint-disable-next-line no-control-regex -- exactly what must not be printed
      assert.not.match(r.stdout.replace(/\r?\n/g, ''), /[\u0000-\u001f\u007f-\u009f]/u, format);
      assert.ok(r.stdout.includes(`vm${escaped}`) && r.stdout.includes(`db${escaped}`), `${format}: ${r.stdout}`);
    }
    const json = await runInProcess(['list', '-f', 'json', ...where]);
    assert.match(json.stdout, '"domain": "vmx\\u009b31m\\u007f\\u0085\\t\\ny"');
    const show = await runInProcess(['show', `vm${hostile.replace('&#10;', '\n')}`, ...where]);
    assert.is(show.code, 0, show.stderr);
    assert.ok(show.stdout.startsWith(`domain vm${escaped}  uuid 0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5  definition persistent  name db${escaped}  namespace `), show.stdout);
  } finally {
    daemon?.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
