/**
 * `list`, `find` and `show` reading libvirt's XML directories, through runMain as the operator
 * runs them: real files in temporary directories laid out as libvirt lays them out.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcess } from '../support/cli';
import { parseIp } from '../../src/core/ip';
import { readsXmlFiles } from '../../src/adapters/domain-inventory';
import { daemonKeepsDirs } from '../../src/adapters/domain-xml-files';
import { standInDaemon, type StandInDaemon } from '../support/stand-in-daemon';
import { DEFAULTS } from '../../src/adapters/settings';
import { addressValues, mayHoldAddress, mayHoldTerm, sameNonZeroGroups } from '../../src/core/may-hold';
import { parseTerm } from '../../src/core/lookup';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');
/** As libvirt keeps a running guest's live definition in /run/libvirt/qemu. */
const domstatus = (xml: string) =>
  `<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.\n-->\n<domstatus state='running' reason='booted' pid='4242'>\n  <monitor path='/var/lib/libvirt/qemu/domain-1/monitor.sock' type='unix'/>\n  <qemuCaps>\n    <flag name='kvm'/>\n  </qemuCaps>\n${xml}</domstatus>\n`;

const DB_UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const PORT_A = '567a4527-b0e4-4d0a-bcc2-71fda37897f7';
const WEB_UUID = '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a';
const APP_UUID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const PORT_B = 'b1b2b3b4-0000-4000-8000-000000000001';

const wallaby = fixture('domains/wallaby-nova-ports.xml');
/** db-1 runs: its live definition has a floating IP the persistent one lacks, and a fixed IP changed. */
const dbLive = wallaby.replace(
  '<nova:ip type="fixed" address="fdf8:f53b:82e4::52" ipVersion="6"/>',
  '<nova:ip type="fixed" address="fdf8:f53b:82e4::52" ipVersion="6"/>\n          <nova:ip type="floating" address="11.22.33.44" ipVersion="4"/>',
);
const dbPersistent = wallaby.replace('192.168.1.1', '192.168.1.99');
/** app-1 is defined and stopped: only its persistent definition, with the v6 address written long-hand. */
const appPersistent = wallaby
  .replace('instance-0000002b', 'instance-0000002c')
  .replaceAll(DB_UUID, APP_UUID)
  .replace('<nova:name>db-1</nova:name>', '<nova:name>app-1</nova:name>')
  .replace(PORT_A, PORT_B)
  .replace('192.168.1.1', '10.0.0.7')
  .replace('fdf8:f53b:82e4::52', '2001:DB8:0:0:0:0:0:0A')
  // Interfaces of its own (the fixtures share theirs), as nova names them after app-1's port.
  .replace('FA:16:3E:5B:1C:09', 'fa:16:3e:00:0c:01')
  .replace('tap567a4527-b0', 'tapb1b2b3b4-00')
  .replace('fa:16:3e:c4:7e:21', 'fa:16:3e:00:0c:02')
  .replace('tapa3ca97e2-0c', 'tapb1b2b3b4-01');
/** web-1, stopped, nova < 23: no ports listed; interfaces of its own. */
const webPersistent = fixture('domains/pre-wallaby.xml')
  .replace('fa:16:3e:5b:1c:09', 'fa:16:3e:00:0a:01')
  .replace('tap567a4527-b0', 'tapc2f4a9d1-7e')
  .replace('fa:16:3e:c4:7e:21', 'fa:16:3e:00:0a:02')
  .replace('tapa3ca97e2-0c', 'tapc2f4a9d1-7f');

let root: string;
let live: string;
let persistent: string;
let config: string;
/**
 * A process named libvirtd in this mount namespace (a copy of sleep): its pid in the live
 * directory's driver.pid makes the files provably the daemon's, so they answer alone.
 */
let daemon: StandInDaemon;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'read-commands-'));
  live = join(root, 'run-libvirt-qemu');
  persistent = join(root, 'etc-libvirt-qemu');
  mkdirSync(live);
  mkdirSync(persistent);
  mkdirSync(join(persistent, 'autostart'));
  mkdirSync(join(persistent, 'networks'));
  config = join(root, 'nova-ipmeta.conf');
  writeFileSync(config, '');
  writeFileSync(join(live, 'instance-0000002b.xml'), domstatus(dbLive));
  writeFileSync(join(live, 'instance-0000002b.pid'), '4242');
  daemon = await standInDaemon(live);
  // Not a domain: ignored without a word.
  writeFileSync(join(live, 'capabilities.xml'), '<capabilities><host/></capabilities>\n');
  writeFileSync(join(persistent, 'instance-0000002b.xml'), dbPersistent);
  writeFileSync(join(persistent, 'instance-0000002a.xml'), webPersistent);
  writeFileSync(join(persistent, 'instance-0000002c.xml'), appPersistent);
  writeFileSync(join(persistent, 'build-runner.xml'), fixture('domains/not-nova.xml'));
  writeFileSync(join(persistent, 'networks', 'default.xml'), '<network><name>default</name></network>\n');
  symlinkSync('../instance-0000002c.xml', join(persistent, 'autostart', 'instance-0000002c.xml'));
  // Broken (cut short), and one that cannot be read: both skipped with a warning.
  writeFileSync(join(persistent, 'half.xml'), wallaby.replaceAll(DB_UUID, '12345678-0000-4000-8000-000000000000').slice(0, 700));
  symlinkSync(join(root, 'a-directory'), join(persistent, 'not-a-file.xml'));
  mkdirSync(join(root, 'a-directory'));
});

test.after(() => {
  daemon.stop();
  rmSync(root, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runIn(live, persistent, ...argv);
}

async function runIn(liveDir: string, persistentDir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runInProcess([...argv, '--live-xml-dir', liveDir, '--persistent-xml-dir', persistentDir, '--config', config]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const warnings = (err: string) => err.split('\n').filter((l) => l.includes('warning'));

test('list: a table of every instance, running ones from their live definition', async () => {
  const r = await run('list');
  assert.is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines[0]?.split(/\s+/), ['DOMAIN', 'INSTANCE', 'NAME', 'PORT', 'ADDRESS', 'TYPE', 'VERSION', 'DEFINITION']);
  const cells = lines.slice(1).map((l) => l.split(/\s+/));
  assert.equal(cells, [
    ['instance-0000002a', WEB_UUID, 'web-1', '-', '-', '-', '-', 'persistent'],
    ['instance-0000002b', DB_UUID, 'db-1', PORT_A, '192.168.1.1', 'fixed', '4', 'live'],
    ['instance-0000002b', DB_UUID, 'db-1', PORT_A, 'fdf8:f53b:82e4::52', 'fixed', '6', 'live'],
    ['instance-0000002b', DB_UUID, 'db-1', PORT_A, '11.22.33.44', 'floating', '4', 'live'],
    ['instance-0000002c', APP_UUID, 'app-1', PORT_B, '10.0.0.7', 'fixed', '4', 'persistent'],
    ['instance-0000002c', APP_UUID, 'app-1', PORT_B, '2001:db8::a', 'fixed', '6', 'persistent'],
  ]);
  assert.not.match(r.out, '192.168.1.99');
  assert.not.match(r.out, 'build-runner');
});

test('list: a broken file and an unreadable one are skipped with one warning line each', async () => {
  const r = await run('list');
  assert.is(r.code, 0);
  const w = warnings(r.err);
  assert.is(w.length, 2, r.err);
  assert.match(w[0] ?? '', `${join(persistent, 'half.xml')}: malformed XML`);
  assert.match(w[1] ?? '', `${join(persistent, 'not-a-file.xml')}: cannot read: EISDIR`);
  assert.not.match(r.err, 'capabilities.xml');
  assert.not.match(r.err, 'default.xml');
});

test('list --json: one object per address, absent values null', async () => {
  const r = await run('list', '--json');
  assert.is(r.code, 0);
  const rows = JSON.parse(r.out) as Record<string, unknown>[];
  assert.is(rows.length, 6);
  assert.equal(rows[0], {
    domain: 'instance-0000002a',
    instanceId: WEB_UUID,
    name: 'web-1',
    projectId: 'acf923f2-9b4d-4e0d-acfb-1b2976dd480f',
    portId: null,
    address: null,
    type: null,
    ipVersion: null,
    definition: 'persistent',
  });
  assert.equal(rows[3], {
    domain: 'instance-0000002b',
    instanceId: DB_UUID,
    name: 'db-1',
    projectId: 'f241e906-010e-4917-ae81-53f4fb8aa021',
    portId: PORT_A,
    address: '11.22.33.44',
    type: 'floating',
    ipVersion: 4,
    definition: 'live',
  });
});

test('list -f csv: a header and one line per address', async () => {
  const r = await run('list', '-f', 'csv');
  assert.is(r.code, 0);
  const lines = r.out.split('\r\n');
  assert.is(lines[0], 'domain,instanceId,name,projectId,portId,address,type,ipVersion,definition');
  assert.is(lines[2], `instance-0000002b,${DB_UUID},db-1,f241e906-010e-4917-ae81-53f4fb8aa021,${PORT_A},192.168.1.1,fixed,4,live`);
  assert.is(lines.length, 8);
  assert.is(lines[7], '');
});

test('list: --json with another format is a usage error; -f value and -c choose what is printed', async () => {
  const r = await run('list', '--json', '-f', 'csv');
  assert.is(r.code, 2);
  assert.match(r.err, '--json and --format csv exclude each other');
  const values = await run('list', '-f', 'value', '-c', 'address', '-c', 'domain');
  assert.is(values.code, 0, values.err);
  assert.is(values.out.split('\n')[2], 'fdf8:f53b:82e4::52 instance-0000002b');
  const table = await run('list', '-c', 'NAME', '-c', 'projectId');
  assert.is(table.out.split('\n')[0], 'NAME   PROJECT');
  const unknown = await run('list', '-c', 'mac');
  assert.is(unknown.code, 2);
  assert.match(unknown.err, '-c mac: no such column; columns: domain, instanceId, name, projectId, portId, address, type, ipVersion, definition');
});

test('find: a fixed address names its instance and port', async () => {
  const r = await run('find', '192.168.1.1', '--json');
  assert.is(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as { domain: string; portId: string; type: string; definition: string }[];
  assert.equal(
    rows.map((x) => [x.domain, x.portId, x.type, x.definition]),
    [['instance-0000002b', PORT_A, 'fixed', 'live']],
  );
});

test('find: a floating address, as a table', async () => {
  const r = await run('find', '11.22.33.44');
  assert.is(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.is(lines.length, 2);
  assert.equal(lines[1]?.split(/\s+/), ['instance-0000002b', DB_UUID, 'db-1', PORT_A, '11.22.33.44', 'floating', '4', 'live']);
});

test('find: IPv6 in another textual form than the XML, both ways', async () => {
  const upper = await run('find', 'FDF8:F53B:82E4:0::52', '-f', 'csv');
  assert.is(upper.code, 0, upper.err);
  assert.match(upper.out, `instance-0000002b,${DB_UUID},db-1,`);
  assert.match(upper.out, ',fdf8:f53b:82e4::52,fixed,6,live');
  // Written long-hand and upper case in app-1's file, asked for canonically.
  const canonical = await run('find', '2001:db8::a', '--json');
  assert.is(canonical.code, 0, canonical.err);
  assert.equal((JSON.parse(canonical.out) as { domain: string; definition: string }[]).map((x) => [x.domain, x.definition]), [
    ['instance-0000002c', 'persistent'],
  ]);
});

test('find: the persistent definition of a running guest is not what is true now', async () => {
  const r = await run('find', '192.168.1.99');
  assert.is(r.code, 1);
  assert.is(r.out, '');
});

test('find: no instance holds it → exit 1, one line on stderr, an empty document for programs', async () => {
  const r = await run('find', '10.9.9.9');
  assert.is(r.code, 1);
  assert.is(r.out, '');
  assert.is(r.err.split('\n').filter((l) => !l.includes('warning')).join('\n'), 'nova-ipmeta: no instance on this host holds 10.9.9.9\n');
  const json = await run('find', '10.9.9.9', '--json');
  assert.is(json.code, 1);
  assert.equal(JSON.parse(json.out), []);
});

test('find: text shaped like an address that is not one → exit 2', async () => {
  for (const bad of ['192.168.1.256', '10.0.0.01', 'fe80::1%eth0', '1:2:3']) {
    const r = await run('find', bad);
    assert.is(r.code, 2, bad);
    assert.match(r.err, 'is not an IP address');
  }
});

const domains = (out: string) => (JSON.parse(out) as { domain: string; portId: string | null; address: string | null }[]).map((x) => [x.domain, x.portId, x.address]);
const DB_ROWS = [
  ['instance-0000002b', PORT_A, '192.168.1.1'],
  ['instance-0000002b', PORT_A, 'fdf8:f53b:82e4::52'],
  ['instance-0000002b', PORT_A, '11.22.33.44'],
];

test('find by MAC (either case or separator), port UUID, tap device: the port\'s rows, and what it was taken for', async () => {
  for (const [what, taken] of [
    ['FA:16:3E:5B:1C:09', 'a MAC address'],
    ['fa-16-3e-5b-1c-09', 'a MAC address'],
    [PORT_A.toUpperCase(), 'a port UUID'],
    ['tap567a4527-b0', 'a tap device'],
  ] as const) {
    const r = await run('find', what, '--json');
    assert.is(r.code, 0, `${what}: ${r.err}`);
    assert.equal(domains(r.out), DB_ROWS, what);
    assert.is(r.err.split('\n').filter((l) => !l.includes('warning')).join('\n'), `nova-ipmeta: find: ${what}: ${taken}\n`);
  }
});

test('find by instance UUID, nova name, domain name: all the instance\'s rows', async () => {
  for (const [what, taken] of [
    [DB_UUID, 'an instance UUID'],
    ['db-1', "nova's name of an instance"],
    ['instance-0000002b', 'a domain name'],
  ] as const) {
    const r = await run('find', what, '--json');
    assert.is(r.code, 0, `${what}: ${r.err}`);
    assert.equal(domains(r.out), DB_ROWS, what);
    assert.match(r.err, `find: ${what}: ${taken}\n`);
  }
  // An instance without ports still has its row.
  const web = await run('find', 'web-1', '-f', 'value', '-c', 'domain', '-c', 'address');
  assert.is(web.out, 'instance-0000002a \n');
});

test('find: an interface whose port nova does not list gives the instance; nothing matching: exit 1 naming what was tried', async () => {
  const r = await run('find', 'tapa3ca97e2-0c', '--json');
  assert.is(r.code, 0, r.err);
  assert.equal(domains(r.out), DB_ROWS);
  for (const [what, message] of [
    ['fa:16:3e:00:00:99', 'no instance on this host has an interface with the MAC fa:16:3e:00:00:99'],
    ['00000000-0000-4000-8000-000000000000', 'no instance or port on this host has the UUID 00000000-0000-4000-8000-000000000000'],
    ['nobody', 'no instance on this host has a tap device or a name "nobody"'],
    // A domain that is not an instance is not found by name either.
    ['build-runner', 'no instance on this host has a tap device or a name "build-runner"'],
  ]) {
    const none = await run('find', what ?? '');
    assert.is(none.code, 1, what);
    assert.is(none.err.split('\n').filter((l) => !l.includes('warning')).join('\n'), `nova-ipmeta: ${message ?? ''}\n`);
  }
});

test('find parses only the files that may hold the address: the broken ones go unnoticed', async () => {
  const r = await run('find', '10.0.0.7');
  assert.is(r.code, 0);
  assert.equal(warnings(r.err), [`nova-ipmeta: warning: ${join(persistent, 'not-a-file.xml')}: cannot read: EISDIR; skipped`]);
});

test('show DOMAIN: by name and by UUID (any case), live for a running guest', async () => {
  const byName = await run('show', 'instance-0000002b');
  assert.is(byName.code, 0, byName.err);
  assert.match(byName.out, `domain instance-0000002b  uuid ${DB_UUID}  definition live  name db-1`);
  assert.match(byName.out, /11\.22\.33\.44\s+floating/);
  const byUuid = await run('show', DB_UUID.toUpperCase());
  assert.is(byUuid.code, 0, byUuid.err);
  assert.is(byUuid.out, byName.out);
  const json = await run('show', APP_UUID, '--json');
  const shown = JSON.parse(json.out) as { domain: string; definition: string; nova: { ports: { id: string; ips: { address: string }[] }[] } };
  assert.is(shown.domain, 'instance-0000002c');
  assert.is(shown.definition, 'persistent');
  assert.equal(shown.nova.ports[0]?.ips.map((ip) => ip.address), ['10.0.0.7', '2001:db8::a']);
});

test("show NAME: nova's instance name (what list prints) finds its domain", async () => {
  const byNovaName = await run('show', 'db-1');
  assert.is(byNovaName.code, 0, byNovaName.err);
  assert.is(byNovaName.out, (await run('show', 'instance-0000002b')).out);
  assert.match((await run('show', 'app-1')).out, 'domain instance-0000002c');
});

test('show: a domain that is not an instance says so', async () => {
  const r = await run('show', 'build-runner');
  assert.is(r.code, 0);
  assert.match(r.out, 'not a nova instance');
});

test('show: an unknown domain → exit 1 (not found)', async () => {
  const r = await run('show', 'instance-00000099');
  assert.is(r.code, 1);
  assert.match(r.err, '"instance-00000099"');
});

test('show: a domain and --xml together, or neither → exit 2; --xml alone still works', async () => {
  assert.is((await run('show')).code, 2);
  assert.is((await run('show', 'instance-0000002b', '--xml', join(persistent, 'instance-0000002b.xml'))).code, 2);
  const file = await run('show', '--xml', join(persistent, 'instance-0000002b.xml'));
  assert.is(file.code, 0);
  assert.match(file.out, '192.168.1.99');
  assert.not.match(file.out, 'definition');
});

test("files not provably the daemon's: libvirt is asked for the rest (here: no daemon → exit 3), never 'not found'", async () => {
  const uri = `qemu:///system?socket=${join(root, 'no-daemon-sock')}`;
  const ask = (liveDir: string, ...argv: string[]) =>
    runInProcess([...argv, '--live-xml-dir', liveDir, '--persistent-xml-dir', persistent, '--connect', uri, '--config', config]);
  // Absent (a containerized daemon's directory): libvirt fills in without a word.
  const missing = await ask(join(root, 'no-such-dir'), 'find', '10.9.9.9');
  assert.is(missing.code, 3);
  assert.equal(missing.stderr.trimEnd().split('\n').filter((l) => !l.includes('warning')).length, 1, missing.stderr);
  assert.match(missing.stderr, 'no-daemon-sock');
  // A live directory without the daemon's pid file: the same, for find, list and show.
  const noPid = mkdtempSync(join(root, 'no-pid-'));
  writeFileSync(join(noPid, 'instance-0000002b.xml'), domstatus(dbLive));
  for (const argv of [['find', '192.168.1.1'], ['list'], ['show', 'instance-0000002b']]) {
    const r = await ask(noPid, ...argv);
    assert.is(r.code, 3, `${argv.join(' ')}: ${r.stderr}`);
  }
  // A directory that exists but cannot be listed says so in one line.
  const file = join(root, 'not-a-directory');
  writeFileSync(file, '');
  const notDir = await ask(file, 'list');
  assert.is(notDir.code, 3);
  assert.match(notDir.stderr, `nova-ipmeta: cannot read ${file} (ENOTDIR): asking libvirt at ${uri} instead\n`);
});

test('daemonKeepsDirs: a libvirtd or virtqemud of this mount namespace named by driver.pid, nothing else', () => {
  const dirs = { live, persistent };
  assert.ok(daemonKeepsDirs(dirs));
  const other = mkdtempSync(join(root, 'pid-'));
  const at = (pid: string) => {
    writeFileSync(join(other, 'driver.pid'), pid);
    return daemonKeepsDirs({ live: other, persistent });
  };
  assert.not.ok(at(`${process.pid}\n`), 'not a libvirt daemon');
  assert.not.ok(at('4194305\n'), 'no such process');
  assert.not.ok(at('x\n'), 'not a pid');
  assert.not.ok(daemonKeepsDirs({ live: join(root, 'no-such-dir'), persistent }), 'no pid file');
});

test('files are read for the local system daemon or named directories, virsh otherwise', () => {
  const at = (uri: string | undefined, liveXmlDir: string = DEFAULTS.liveXmlDir) =>
    readsXmlFiles({ uri, liveXmlDir, persistentXmlDir: DEFAULTS.persistentXmlDir });
  assert.ok(at(undefined));
  assert.ok(at('qemu:///system'));
  assert.ok(at('qemu+unix:///system'));
  assert.not.ok(at('qemu:///session'));
  assert.not.ok(at('qemu+ssh://compute-2/system'));
  assert.not.ok(at('qemu:///system?socket=/tmp/x/run/libvirt-sock'));
  assert.ok(at('qemu:///system?socket=/tmp/x/run/libvirt-sock', '/tmp/x/run/libvirt/qemu'));
});

// A status file's <domain> is parsed alone when that is exactly the same (domain-xml-files.ts):
// status files built to fool that shortcut must give what a parse of the whole file gives.
test('status files: the <domain> child is found whatever comes before it', async () => {
  const dir = mkdtempSync(join(root, 'status-'));
  const empty = mkdtempSync(join(root, 'empty-'));
  writeFileSync(join(dir, 'driver.pid'), `${daemon.pid}\n`);
  const fake = "<domain type='kvm'><name>fake</name><uuid>99999999-9999-4999-8999-999999999999</uuid></domain>";
  const variant = (i: number, before: string, rootAttributes = '', domainXml = dbLive) =>
    `<!-- <domstatus> ${fake} -->\n<domstatus state='running'${rootAttributes}>\n${before}\n${domainXml
      .replace('instance-0000002b', `instance-1000000${i}`)
      .replaceAll(DB_UUID, `0c1d2e3f-4a5b-4c6d-8e7f-00000000000${i}`)}</domstatus>\n`;
  writeFileSync(join(dir, '1.xml'), variant(1, `<!-- ${fake} -->`));
  writeFileSync(join(dir, '2.xml'), variant(2, `<private>${fake}</private>`));
  writeFileSync(join(dir, '3.xml'), variant(3, `<![CDATA[ ${fake} ]]>`.replace('<![CDATA[', '<data><![CDATA[') + '</data>'));
  // The nova prefix declared on the root only: a <domain> parsed alone would lose it.
  const prefixOnRoot = dbLive.replace(' xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"', '');
  writeFileSync(join(dir, '4.xml'), variant(4, '', ' xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"', prefixOnRoot));
  // Something after the <domain>: the whole file is parsed, and the first <domain> child counts.
  writeFileSync(join(dir, '5.xml'), variant(5, '').replace('</domstatus>', `${fake}</domstatus>`));
  // The one documented difference, which shows the shortcut is taken: broken before <domain>.
  writeFileSync(join(dir, '6.xml'), variant(6, '<private><unclosed>'));
  const r = await runIn(dir, empty, 'list', '--json');
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  const rows = JSON.parse(r.out) as { domain: string; instanceId: string; name: string; address: string }[];
  for (const i of [1, 2, 3, 4, 5, 6]) {
    const mine = rows.filter((x) => x.domain === `instance-1000000${i}`);
    assert.equal(
      mine.map((x) => [x.instanceId, x.name, x.address]),
      ['192.168.1.1', 'fdf8:f53b:82e4::52', '11.22.33.44'].map((a) => [`0c1d2e3f-4a5b-4c6d-8e7f-00000000000${i}`, 'db-1', a]),
      `status file ${i}`,
    );
  }
  assert.is(rows.length, 18);
});

// The pre-filter must never skip a file that holds the address: every way to write an IPv6 address.
const hex4 = fc.integer({ min: 0, max: 0xffff });
test('mayHoldAddress: true for a file holding the address in any textual form', () => {
  fc.assert(
    fc.property(fc.array(hex4, { minLength: 8, maxLength: 8 }), fc.boolean(), fc.boolean(), fc.constantFrom('"', "'"), (groups, upper, pad, q) => {
      let text = groups.map((g) => (pad ? g.toString(16).padStart(4, '0') : g.toString(16))).join(':');
      if (upper) text = text.toUpperCase();
      const target = parseIp(text);
      if (!target) return false;
      const xml = wallaby.replace('"fdf8:f53b:82e4::52"', `${q}${text}${q}`);
      const other = parseIp('2001:db8::dead');
      return mayHoldAddress(target)(Buffer.from(xml)) && (target.address === other?.address || (other !== undefined && !mayHoldAddress(other)(Buffer.from(xml))));
    }),
  );
});

// The same with zero runs (written "::", or not) and the last two groups written as an IPv4 tail.
test('mayHoldAddress: true for "::" forms and IPv4 tails, whatever group the address ends with', () => {
  const group = fc.oneof(fc.constant(0), hex4);
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.constantFrom('canonical', 'upper', 'uncompressed', 'ipv4-tail'), (groups, form) => {
      const full = groups.map((g) => g.toString(16)).join(':');
      const target = parseIp(full);
      if (!target) return false;
      const [g6, g7] = [groups[6] ?? 0, groups[7] ?? 0];
      const text =
        form === 'canonical' ? target.address
        : form === 'upper' ? target.address.toUpperCase()
        : form === 'uncompressed' ? full
        : `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
      if (parseIp(text)?.address !== target.address) return false;
      const xml = wallaby.replace('"fdf8:f53b:82e4::52"', `"${text}"`);
      return mayHoldAddress(target)(Buffer.from(xml));
    }),
  );
  // Another address, ending in the same group or not, is told apart.
  const may = (address: string, xml: string) => {
    const target = parseIp(address);
    if (!target) throw new Error(`parseIp ${address}`);
    return mayHoldAddress(target)(Buffer.from(xml));
  };
  assert.not.ok(may('fdf8:f53b:82e4::1:52', wallaby));
  assert.not.ok(may('fdf8:f53b:82e4::53', wallaby));
  assert.ok(may('FDF8:F53B:82E4:0:0:0:0:0052', wallaby));
  assert.ok(may('fdf8:f53b:82e4::', wallaby.replace('fdf8:f53b:82e4::52', 'fdf8:f53b:82e4:0::')));
  // An IPv4-mapped address, whose canonical text ends in dotted decimal, written in hex groups.
  assert.ok(may('::ffff:10.0.0.1', wallaby.replace('fdf8:f53b:82e4::52', '0:0:0:0:0:FFFF:A00:1')));
});

test('addressValues: every value the attribute pattern matches in the latin1 text, and the bytes searched as they are', () => {
  const oracle = (text: string) => [...text.matchAll(/\saddress\s*=\s*(?:"([^"]*)"|'([^']*)')/g)].map((m) => m[1] ?? m[2] ?? '');
  const piece = fc.constantFrom(' address', '\taddress', '\naddress', '\u00a0address', 'address', 'xaddress', ' addres', '=', ' ', '\r', '\u000b', '"', "'", 'fe80::1', '2001:DB8::A', '10.0.0.1', '<nova:ip', '/>', 'é');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
      const text = pieces.join('');
      const bytes = Buffer.from(text, 'latin1');
      const found = [...addressValues(bytes)];
      for (const value of oracle(bytes.toString('latin1'))) assert.ok(found.includes(value), `${JSON.stringify(text)}: ${JSON.stringify(value)} missed`);
    }),
    { numRuns: 5000 },
  );
  assert.equal([...addressValues(Buffer.from(` address = 'a:b'\taddress=\n"c" address="d`))], ['a:b', 'c']);
});

test('sameNonZeroGroups: true for every hex way to write the address, false for the others it is asked about', () => {
  const groupsOf = (address: string) => address.split(':').filter((g) => g !== '' && g !== '0').join(':');
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant(0), hex4), { minLength: 8, maxLength: 8 }), fc.boolean(), fc.boolean(), fc.boolean(), (groups, upper, pad, compress) => {
      const target = parseIp(groups.map((g) => g.toString(16)).join(':'));
      if (!target) return false;
      // A canonical text in dotted decimal has no hex groups to compare: mayHoldAddress parses every value then.
      if (target.address.includes('.')) return true;
      let text = compress ? target.address : groups.map((g) => (pad ? g.toString(16).padStart(4, '0') : g.toString(16))).join(':');
      if (upper) text = text.toUpperCase();
      assert.ok(sameNonZeroGroups(text, groupsOf(target.address)), `${text} ~ ${target.address}`);
      return true;
    }),
    { numRuns: 3000 },
  );
  const g = groupsOf('fdf8:f53b:82e4::3e7:5');
  assert.ok(sameNonZeroGroups('FDF8:F53B:82E4:0:0:0:3E7:0005', g));
  assert.ok(sameNonZeroGroups('fdf8:f53b:82e4::3e7:5', g));
  for (const other of ['fdf8:f53b:82e4::3e7:6', 'fdf8:f53b:82e4::3e75', 'fdf8:f53b:82e4::3e:5', 'fdf8:f53b:82e4::3e7', 'fdf8:f53b:82e4::3e7:5:1', '1:fdf8:f53b:82e4::3e7:5', 'fa:16:3e:00:03:e7'])
    assert.not.ok(sameNonZeroGroups(other, g), other);
});

test('mayHoldAddress: false where the address is not, true where it may be hidden', () => {
  const v4 = parseIp('192.168.1.1');
  if (!v4) throw new Error('parseIp');
  const may = mayHoldAddress(v4);
  assert.ok(may(Buffer.from(wallaby)));
  assert.not.ok(may(Buffer.from(wallaby.replace('192.168.1.1', '192.168.1.2'))));
  assert.not.ok(may(Buffer.from(fixture('domains/not-nova.xml'))));
  // A character reference could spell it: the parser decides.
  assert.ok(may(Buffer.from(wallaby.replace('192.168.1.1', '192.168&#46;1.1'))));
});

test('mayHoldTerm: true for a file holding the MAC or UUID in any mix of cases', () => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }), (upper) => {
      const spell = (text: string) => text.replace(/[a-f]/g, (c, i: number) => (upper[i] ? c.toUpperCase() : c));
      const mac = 'fa:16:3e:5b:1c:09';
      const xml = wallaby.replace('FA:16:3E:5B:1C:09', spell(mac)).replace(PORT_A, spell(PORT_A));
      return mayHoldTerm(parseTerm(mac, 'what'))(Buffer.from(xml)) && mayHoldTerm(parseTerm(PORT_A, 'what'))(Buffer.from(xml));
    }),
  );
});

test('mayHoldTerm: a MAC or UUID in any case, a name as its bytes; references left to the parser', () => {
  const may = (what: string, xml: string) => mayHoldTerm(parseTerm(what, 'what'))(Buffer.from(xml));
  assert.ok(may('fa:16:3e:5b:1c:09', wallaby));
  assert.ok(may('fa:16:3e:5b:1c:09', wallaby.replace('FA:16:3E:5B:1C:09', 'Fa:16:3e:5B:1c:09')));
  assert.not.ok(may('fa:16:3e:5b:1c:0a', wallaby));
  assert.ok(may(DB_UUID.toUpperCase(), wallaby));
  assert.ok(may(PORT_A, wallaby.replace(PORT_A, PORT_A.toUpperCase())));
  assert.not.ok(may(PORT_B, wallaby));
  assert.ok(may('db-1', wallaby));
  assert.not.ok(may('db-2', wallaby));
  assert.ok(may('db-2', wallaby.replace('db-1', 'db&#45;2')));
  assert.ok(may('tapa3ca97e2-0c', wallaby));
});

test.run();
