/** Listing output as the OpenStack client prints it: formats, columns, and nothing raw reaching a terminal. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatListing, type Column } from '../../src/cli/output';
import { UsageError } from '../../src/errors';

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

test.run();
