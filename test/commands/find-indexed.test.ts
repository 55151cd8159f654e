/**
 * `find` through its index (src/adapters/find-index.ts), as the operator runs it: real files laid
 * out as libvirt lays them out, changed the ways libvirt changes them (a new file renamed over the
 * old one, a file added, a file removed), each change seen by the very next find.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcess } from '../support/cli';
import { standInDaemon, type StandInDaemon } from '../support/stand-in-daemon';
import { FIND_INDEX_FILE } from '../../src/adapters/find-index';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');
const domstatus = (xml: string) => `<domstatus state='running' reason='booted' pid='4242'>\n  <qemuCaps>\n    <flag name='kvm'/>\n  </qemuCaps>\n${xml.replace("<domain type='kvm'>", "<domain type='kvm' id='3'>")}</domstatus>\n`;
const DB_UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const wallaby = fixture('domains/wallaby-nova-ports.xml');
/** Domain n: the fixture with its own name, UUID and fixed IPv4 address. */
const domain = (n: number, address: string) =>
  wallaby.replace('instance-0000002b', `instance-${String(n).padStart(8, '0')}`).replaceAll(DB_UUID, `0c1d2e3f-4a5b-4c6d-8e7f-${String(n).padStart(12, '0')}`).replace('192.168.1.1', address);

let root: string;
let live: string;
let persistent: string;
let state: string;
let config: string;
let daemon: StandInDaemon;

/** As libvirt writes a file: the new text in `NAME.new`, renamed over `NAME`. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'find-indexed-'));
  [live, persistent, state] = ['live', 'persistent', 'state'].map((d) => join(root, d)) as [string, string, string];
  for (const d of [live, persistent]) mkdirSync(d);
  mkdirSync(state, { mode: 0o700 });
  config = join(root, 'nova-ipmeta.conf');
  writeFileSync(config, '');
  // Two running guests, one stopped.
  for (const n of [1, 2]) {
    writeFileSync(join(live, `instance-0000000${n}.xml`), domstatus(domain(n, `10.0.0.${n}`)));
    writeFileSync(join(persistent, `instance-0000000${n}.xml`), domain(n, `10.0.1.${n}`));
  }
  writeFileSync(join(persistent, 'instance-00000003.xml'), domain(3, '10.0.0.3'));
  daemon = await standInDaemon(live);
  // Indexed only once they have stood still for two seconds (a change within one tick of the
  // kernel's clock keeps the same time).
  await sleep(2100);
});

test.after(() => {
  daemon.stop();
  rmSync(root, { recursive: true, force: true });
});

async function find(what: string, stateDir = state): Promise<{ code: number; rows: string[] }> {
  const r = await runInProcess(['find', what, '-f', 'value', '-c', 'domain', '-c', 'definition', '--live-xml-dir', live, '--persistent-xml-dir', persistent, '--config', config, '--state-dir', stateDir]);
  assert.is(r.stderr.includes('warning'), false, r.stderr);
  return { code: r.code, rows: r.stdout.trimEnd().split('\n').filter((l) => l !== '') };
}

const indexed = () => JSON.parse(readFileSync(join(state, FIND_INDEX_FILE), 'utf8').split('\n')[0] ?? '') as { dirs: string | null };

test('the first find indexes every file; the index is private; the next finds answer from it', async () => {
  assert.equal(await find('10.0.0.1'), { code: 0, rows: ['instance-00000001 live'] });
  assert.ok(indexed().dirs, 'whole');
  assert.is(statSync(join(state, FIND_INDEX_FILE)).mode & 0o777, 0o600);
  assert.equal(await find('10.0.0.3'), { code: 0, rows: ['instance-00000003 persistent'] });
  assert.equal((await find('10.0.1.1')).code, 1, "a running guest's persistent definition is not what is true now");
  assert.equal(await find('instance-00000002'), { code: 0, rows: ['instance-00000002 live', 'instance-00000002 live'] }, 'both its addresses');
});

test('a file written in place (which libvirt never does) is not read while the directories stand still: the index answers', async () => {
  const path = join(persistent, 'instance-00000003.xml');
  const before = readFileSync(path, 'utf8');
  writeFileSync(path, before.replace('10.0.0.3', '10.0.0.4'));
  assert.is((await find('10.0.0.4')).code, 1);
  writeFileSync(path, before);
});

test('a guest changed, started, stopped, defined, undefined (files renamed over, added, removed): the next find sees each', async () => {
  replace(join(live, 'instance-00000001.xml'), domstatus(domain(1, '10.0.0.11')));
  assert.equal(await find('10.0.0.11'), { code: 0, rows: ['instance-00000001 live'] });
  assert.is((await find('10.0.0.1')).code, 1);
  // instance-3 starts: its live file is added.
  replace(join(live, 'instance-00000003.xml'), domstatus(domain(3, '10.0.0.33')));
  assert.equal(await find('10.0.0.33'), { code: 0, rows: ['instance-00000003 live'] });
  assert.is((await find('10.0.0.3')).code, 1);
  // instance-2 stops: its live file is removed, its persistent definition counts.
  unlinkSync(join(live, 'instance-00000002.xml'));
  assert.equal(await find('10.0.1.2'), { code: 0, rows: ['instance-00000002 persistent'] });
  assert.is((await find('10.0.0.2')).code, 1);
  // A new guest defined; then instance-3 stopped and undefined.
  replace(join(persistent, 'instance-00000004.xml'), domain(4, '10.0.0.44'));
  assert.equal(await find('10.0.0.44'), { code: 0, rows: ['instance-00000004 persistent'] });
  unlinkSync(join(live, 'instance-00000003.xml'));
  unlinkSync(join(persistent, 'instance-00000003.xml'));
  assert.is((await find('10.0.0.33')).code, 1);
  assert.is((await find('instance-00000003')).code, 1);
  // Not whole again until the changes have stood still; the answers were right meanwhile.
  assert.is(indexed().dirs, null);
  await sleep(2100);
  assert.equal(await find('10.0.0.44'), { code: 0, rows: ['instance-00000004 persistent'] });
  assert.ok(indexed().dirs, 'whole again');
  assert.equal(await find('10.0.1.2'), { code: 0, rows: ['instance-00000002 persistent'] });
  assert.equal(await find('10.0.0.11'), { code: 0, rows: ['instance-00000001 live'] });
});

test('no state directory: find reads the files, and creates nothing', async () => {
  const none = join(root, 'no-state');
  assert.equal(await find('10.0.0.11', none), { code: 0, rows: ['instance-00000001 live'] });
  assert.throws(() => statSync(none), /ENOENT/);
});

test.run();
