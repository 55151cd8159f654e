/** `nova-ipmeta cache put|get|list|rm`, in process through runMain, and through the built bundle. */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatAge } from '../../src/commands/cache-list/run';
import { BUNDLE, NODES, fixturePath, runInProcess } from '../support/cli';
import { fixture, macOf, portId, vifJson } from '../support/builders';
import { fillUp, withSmallTmpfs } from '../support/tmpfs';

const UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const OTHER = '11111111-2222-4333-8444-555555555555';
const TWO_PORTS = fixture('network_info/two-ports.json');
const ONE_PORT = JSON.stringify([vifJson(portId(1), macOf(1), [[{ address: '10.0.0.5', floating: ['203.0.113.7'] }]])]);
const BAD = JSON.stringify([{ id: portId(1), address: macOf(1), network: { subnets: [{ ips: [{ address: '10.0.0.999' }] }] } }]);

const tmp = mkdtempSync(join(tmpdir(), 'cache-cmd-'));
let n = 0;
const freshStateDir = () => join(tmp, `state${n++}`);
const mode = (p: string) => statSync(p).mode & 0o7777;

interface Result {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], stdin = ''): Promise<Result> {
  const r = await runInProcess(argv, stdin);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

test('put from a file: one line, the file 0600 in 0700 directories, stored as given', async () => {
  const dir = freshStateDir();
  const r = await run(['cache', 'put', UUID, fixturePath('network_info/two-ports.json'), '--state-dir', dir]);
  assert.equal(r, { code: 0, out: `cached ${UUID}: 2 ports, 4 addresses\n`, err: '' });
  const file = join(dir, 'network_info', `${UUID}.json`);
  assert.is(mode(dir), 0o700);
  assert.is(mode(join(dir, 'network_info')), 0o700);
  assert.is(mode(file), 0o600);
  assert.is(readFileSync(file, 'utf8'), TWO_PORTS);
});

test('put from stdin (the default), upper-case UUID stored under its canonical name; --json', async () => {
  const dir = freshStateDir();
  const r = await run(['cache', 'put', UUID.toUpperCase(), '--state-dir', dir, '--json'], ONE_PORT);
  assert.is(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out), { uuid: UUID, path: join(dir, 'network_info', `${UUID}.json`), ports: 1, addresses: 2 });
  assert.equal(readdirSync(join(dir, 'network_info')), [`${UUID}.json`]);
});

test('put of invalid network_info: exit 2, the one-line error naming the JSON path, nothing changed', async () => {
  const dir = freshStateDir();
  assert.is((await run(['cache', 'put', UUID, '-', '--state-dir', dir], TWO_PORTS)).code, 0);
  const r = await run(['cache', 'put', UUID, '-', '--state-dir', dir], BAD);
  assert.equal(r, { code: 2, out: '', err: 'nova-ipmeta: stdin: [0].network.subnets[0].ips[0].address: "10.0.0.999" is not an IP address\n' });
  const file = join(tmp, 'bad.json');
  writeFileSync(file, '[{');
  const f = await run(['cache', 'put', UUID, file, '--state-dir', dir]);
  assert.is(f.code, 2);
  assert.match(f.err, new RegExp(`^nova-ipmeta: ${file}: not JSON: [^\\n]+\\n$`));
  assert.is(readFileSync(join(dir, 'network_info', `${UUID}.json`), 'utf8'), TWO_PORTS);
});

test('a bad UUID: exit 2, and nothing created', async () => {
  const dir = freshStateDir();
  const r = await run(['cache', 'put', '../x', '-', '--state-dir', dir], TWO_PORTS);
  assert.equal(r, { code: 2, out: '', err: 'nova-ipmeta: instance UUID: "../x" is not a UUID\n' });
  assert.not.ok(existsSync(dir));
});

test('get prints the stored JSON; none: exit 1 "no cache for UUID", and a read creates nothing', async () => {
  const dir = freshStateDir();
  const none = await run(['cache', 'get', UUID, '--state-dir', dir]);
  assert.equal(none, { code: 1, out: '', err: `nova-ipmeta: no cache for ${UUID} in ${join(dir, 'network_info')}\n` });
  assert.not.ok(existsSync(dir));
  await run(['cache', 'put', UUID, '--state-dir', dir], ONE_PORT);
  assert.equal(await run(['cache', 'get', UUID, '--state-dir', dir]), { code: 0, out: `${ONE_PORT}\n`, err: '' });
  await run(['cache', 'put', UUID, '--state-dir', dir], TWO_PORTS);
  assert.equal(await run(['cache', 'get', UUID, '--state-dir', dir]), { code: 0, out: `${TWO_PORTS}\n`, err: '' });
});

test('list: a table with human ages, invalid files shown with their error; --json; empty', async () => {
  const dir = freshStateDir();
  const empty = await run(['cache', 'list', '--state-dir', dir]);
  assert.equal(empty, { code: 0, out: `no cache in ${join(dir, 'network_info')}\n`, err: '' });
  assert.equal(await run(['cache', 'list', '--state-dir', dir, '--json']), { code: 0, out: '[]\n', err: '' });
  assert.not.ok(existsSync(dir));

  await run(['cache', 'put', UUID, '--state-dir', dir], TWO_PORTS);
  await run(['cache', 'put', OTHER, '--state-dir', dir], ONE_PORT);
  const hoursAgo = new Date(Date.now() - (3 * 3600 + 60) * 1000);
  utimesSync(join(dir, 'network_info', `${UUID}.json`), hoursAgo, hoursAgo);
  const daysAgo = new Date(Date.now() - (2 * 86400 + 60) * 1000);
  utimesSync(join(dir, 'network_info', `${OTHER}.json`), daysAgo, daysAgo);
  const r = await run(['cache', 'list', '--state-dir', dir]);
  assert.is(r.code, 0, r.err);
  assert.is(
    r.out,
    [
      'UUID                                  PORTS  ADDRESSES  AGE',
      `${OTHER}  1      2          2d`,
      `${UUID}  2      4          3h`,
      '',
    ].join('\n'),
  );

  const broken = join(dir, 'network_info', 'aaaaaaaa-2222-4333-8444-555555555555.json');
  writeFileSync(broken, '[]x', { mode: 0o600 });
  const withError = await run(['cache', 'list', '--state-dir', dir]);
  assert.is(withError.code, 0);
  const lines = withError.out.split('\n');
  assert.is(lines[0], 'UUID                                  PORTS  ADDRESSES  AGE  ERROR');
  assert.match(lines[3] ?? '', new RegExp(`^aaaaaaaa-2222-4333-8444-555555555555  -      -          0s   ${broken}: not JSON: `));

  const json = JSON.parse((await run(['cache', 'list', '--state-dir', dir, '--json'])).out) as Record<string, unknown>[];
  assert.equal(
    json.map((e) => [e.uuid, e.ports, e.addresses, e.mtime, typeof e.ageSeconds, e.error === null]),
    [
      [OTHER, 1, 2, daysAgo.toISOString(), 'number', true],
      [UUID, 2, 4, hoursAgo.toISOString(), 'number', true],
      ['aaaaaaaa-2222-4333-8444-555555555555', null, null, statSync(broken).mtime.toISOString(), 'number', false],
    ],
  );
});

test('ages: seconds, minutes, hours, days, the largest whole unit; none: -', () => {
  assert.equal([0, 59, 60, 5 * 60 + 59, 3 * 3600, 86_399, 2 * 86_400, null].map(formatAge), ['0s', '59s', '1m', '5m', '3h', '23h', '2d', '-']);
});

test('rm removes and says so; a second rm is exit 1, unless --force', async () => {
  const dir = freshStateDir();
  await run(['cache', 'put', UUID, '--state-dir', dir], ONE_PORT);
  assert.equal(await run(['cache', 'rm', UUID, '--state-dir', dir]), { code: 0, out: `removed the cache of ${UUID}\n`, err: '' });
  assert.equal(readdirSync(join(dir, 'network_info')), []);
  assert.equal(await run(['cache', 'rm', UUID, '--state-dir', dir]), {
    code: 1,
    out: '',
    err: `nova-ipmeta: no cache for ${UUID} in ${join(dir, 'network_info')}\n`,
  });
  assert.equal(await run(['cache', 'rm', UUID, '--state-dir', dir, '--force']), { code: 0, out: '', err: '' });
});

test('a group-writable cache directory or file: exit 3 with the fix in the message', async () => {
  const dir = freshStateDir();
  await run(['cache', 'put', UUID, '--state-dir', dir], ONE_PORT);
  const cacheDir = join(dir, 'network_info');
  chmodSync(cacheDir, 0o777);
  const msg = `nova-ipmeta: ${cacheDir}: writable by group or others (mode 0777); run chmod 0700 ${cacheDir}\n`;
  for (const argv of [['get', UUID], ['list'], ['put', UUID], ['rm', UUID]]) {
    assert.equal(await run(['cache', ...argv, '--state-dir', dir], ONE_PORT), { code: 3, out: '', err: msg }, argv.join(' '));
  }
  chmodSync(cacheDir, 0o700);
  const file = join(cacheDir, `${UUID}.json`);
  chmodSync(file, 0o660);
  assert.equal(await run(['cache', 'get', UUID, '--state-dir', dir]), {
    code: 3,
    out: '',
    err: `nova-ipmeta: ${file}: writable by group or others (mode 0660); run chmod 0600 ${file}\n`,
  });
  // put replaces the file with a fresh 0600 one: the way to repair it.
  assert.is((await run(['cache', 'put', UUID, '--state-dir', dir], ONE_PORT)).code, 0);
  assert.is(mode(file), 0o600);
});

test('disk full: put exits 3 with ENOSPC, the old file intact, no temp left', async () => {
  await withSmallTmpfs(tmp, async (mnt) => {
    const dir = join(mnt, 'state');
    assert.is((await run(['cache', 'put', UUID, '--state-dir', dir], ONE_PORT)).code, 0);
    fillUp(mnt);
    const file = join(dir, 'network_info', `${UUID}.json`);
    assert.equal(await run(['cache', 'put', UUID, '--state-dir', dir], TWO_PORTS), {
      code: 3,
      out: '',
      err: `nova-ipmeta: cannot write ${file}: ENOSPC (no space left on device)\n`,
    });
    assert.is(readFileSync(file, 'utf8'), ONE_PORT);
    assert.equal(readdirSync(join(dir, 'network_info')), [`${UUID}.json`]);
  });
});

for (const [label, node] of NODES) {
  test(`${label}: the bundle puts from stdin, lists as JSON, and refuses bad input with exit 2`, () => {
    const dir = freshStateDir();
    const put = spawnSync(node, [BUNDLE, 'cache', 'put', UUID, '-', '--state-dir', dir], { input: TWO_PORTS, encoding: 'utf8' });
    assert.is(put.status, 0, put.stderr);
    assert.is(put.stdout, `cached ${UUID}: 2 ports, 4 addresses\n`);
    const list = spawnSync(node, [BUNDLE, 'cache', 'list', '--json', '--state-dir', dir], { encoding: 'utf8' });
    assert.is(list.status, 0, list.stderr);
    assert.equal(
      (JSON.parse(list.stdout) as Record<string, unknown>[]).map((e) => [e.uuid, e.ports, e.addresses]),
      [[UUID, 2, 4]],
    );
    const bad = spawnSync(node, [BUNDLE, 'cache', 'put', UUID, '-', '--state-dir', dir], { input: BAD, encoding: 'utf8' });
    assert.is(bad.status, 2);
    assert.is(bad.stderr, 'nova-ipmeta: stdin: [0].network.subnets[0].ips[0].address: "10.0.0.999" is not an IP address\n');
    const get = spawnSync(node, [BUNDLE, 'cache', 'get', UUID, '--state-dir', dir], { encoding: 'utf8' });
    assert.is(get.stdout, `${TWO_PORTS}\n`);
  });
}

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
