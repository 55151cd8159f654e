/**
 * `list`, `find` and `show` against a real private libvirt daemon: reading the XML files the
 * daemon itself wrote (its live and persistent directories), and the same answers when the files
 * cover only part of the daemon's domains or none: the daemon lives in its own mount namespace,
 * as a containerized libvirtd does (kolla-ansible's nova_libvirt), and the tool runs outside it
 * with only the socket. The built bundle is run, as operators run it.
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../support/libvirt';
import { runBundle, type Run } from '../support/cli';
import { makeVif, NS_1_0, NS_1_1, type TestVif } from '../support/nova-guest';

interface Guest {
  name: string;
  uuid: string;
  display: string;
  vifs: TestVif[];
}

interface Row {
  domain: string;
  instanceId: string;
  name: string | null;
  projectId: string | null;
  portId: string | null;
  address: string | null;
  type: string | null;
  ipVersion: number | null;
  definition: string;
}

const t = suite('list, find, show on a real daemon');
let d: PrivateLibvirt;
let work: string;
let config: string;
let emptyDir: string;

/** The nova element with ports and their floating IPs, unprefixed for `virsh metadata --set` when `bare`. */
function novaElement(ns: string, display: string, vifs: readonly TestVif[]): string {
  const ip = (type: string, a: string) => `<nova:ip type="${type}" address="${a}" ipVersion="${a.includes(':') ? 6 : 4}"/>`;
  const ports = vifs
    .map((v) => `<nova:port uuid="${v.id}">${[...v.fixed.map((a) => ip('fixed', a)), ...v.floating.map((a) => ip('floating', a))].join('')}</nova:port>`)
    .join('');
  return `<nova:instance xmlns:nova="${ns}"><nova:name>${display}</nova:name><nova:owner><nova:project uuid="f241e906-010e-4917-ae81-53f4fb8aa021">data</nova:project></nova:owner><nova:ports>${ports}</nova:ports></nova:instance>`;
}

const guest = (name: string, display: string, vifs: TestVif[]): Guest => ({ name, uuid: randomUUID(), display, vifs });

// Running, two ports, a floating IP; its persistent definition is then made to differ.
const web = guest('instance-00000011', 'web-1', [makeVif({ floating: ['203.0.113.10'] }), makeVif()]);
// Defined, never started, nova's older namespace.
const idle = guest('instance-00000012', 'idle-1', [makeVif()]);
// Running, not an instance.
const notNova = guest('build-runner', '', [makeVif()]);
/** An address only in web's persistent definition: not what is true now. */
const STALE = '198.51.100.77';

async function define(g: Guest, metadata: string, start: boolean): Promise<void> {
  const file = join(work, `${g.uuid}.xml`);
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata }));
  await d.virshOk('define', file);
  if (start) await d.virshOk('start', g.uuid);
}

/**
 * files: the daemon's own directories (provably its, through /proc/PID/root: no libvirt call);
 * live-only: its live directory, and an empty directory for the persistent one (the host's own
 * /etc/libvirt/qemu beside a containerized daemon whose definitions are in a volume);
 * missing-dirs: neither visible; uri-only: no directory named.
 */
type Where = 'files' | 'live-only' | 'missing-dirs' | 'uri-only';

function cli(args: string[], where: Where): Run {
  const dirs =
    where === 'files'
      ? ['--live-xml-dir', d.liveXmlDir, '--persistent-xml-dir', d.persistentXmlDir]
      : where === 'live-only'
        ? ['--live-xml-dir', d.liveXmlDir, '--persistent-xml-dir', emptyDir]
        : where === 'missing-dirs'
          ? ['--live-xml-dir', join(work, 'no-such-dir', 'qemu'), '--persistent-xml-dir', join(work, 'no-such-dir', 'etc')]
          : [];
  // Reading the files makes no libvirt call: a URI naming no daemon at all proves it.
  const uri = where === 'files' ? `qemu:///system?socket=${join(work, 'no-daemon-sock')}` : d.uri;
  return runBundle([...args, '--connect', uri, '--config', config, ...dirs]);
}

function rowsOf(g: Guest, definition: string): Row[] {
  return g.vifs.flatMap((v) =>
    [...v.fixed.map((a) => ['fixed', a] as const), ...v.floating.map((a) => ['floating', a] as const)].map(([type, address]) => ({
      domain: g.name,
      instanceId: g.uuid,
      name: g.display,
      projectId: 'f241e906-010e-4917-ae81-53f4fb8aa021',
      portId: v.id,
      address,
      type,
      ipVersion: address.includes(':') ? 6 : 4,
      definition,
    })),
  );
}

t.before(async () => {
  d = await startPrivateLibvirt();
  cleanupOnExit(d);
  work = mkdtempSync(join(tmpdir(), 'read-commands-'));
  config = join(work, 'nova-ipmeta.conf');
  writeFileSync(config, '');
  emptyDir = join(work, 'etc-libvirt-qemu');
  mkdirSync(emptyDir);
  await define(web, novaElement(NS_1_1, web.display, web.vifs), true);
  await define(idle, novaElement(NS_1_0, idle.display, idle.vifs), false);
  await define(notNova, '', true);
  // The persistent definition of the running guest says something else than the live one.
  const stale: TestVif[] = [{ ...(web.vifs[0] as TestVif), fixed: [STALE], floating: [] }];
  const payload = novaElement(NS_1_1, web.display, stale).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '');
  await d.virshOk('metadata', web.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', payload, '--config');
});

t.after(async () => {
  await d.stop();
  rmSync(work, { recursive: true, force: true });
});

t('the daemon keeps the files we read: a live one per running guest, a persistent one per defined guest', async () => {
  const r = cli(['list', '--json'], 'files');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(JSON.parse(r.stdout), [...rowsOf(web, 'live'), ...rowsOf(idle, 'persistent')]);
  // And the running guest's persistent definition is really different (so "live wins" is tested).
  assert.match(await d.virshOk('dumpxml', '--inactive', web.uuid), STALE);
});

for (const where of ['files', 'live-only', 'missing-dirs', 'uri-only'] as const) {
  t(`${where}: find a fixed, a floating and a differently written IPv6 address`, () => {
    const fixed = web.vifs[1]?.fixed[0] ?? '';
    const r1 = cli(['find', fixed, '--json'], where);
    assert.is(r1.code, 0, r1.stderr);
    assert.equal(JSON.parse(r1.stdout), rowsOf(web, 'live').filter((r) => r.address === fixed));
    const r2 = cli(['find', '203.0.113.10', '--json'], where);
    assert.is(r2.code, 0, r2.stderr);
    assert.equal((JSON.parse(r2.stdout) as Row[]).map((r) => [r.domain, r.portId, r.type, r.definition]), [
      [web.name, web.vifs[0]?.id, 'floating', 'live'],
    ]);
    const v6 = idle.vifs[0]?.fixed[1] ?? '';
    const longhand = v6.replace('::', ':0:0:0:0:0:').toUpperCase();
    const r3 = cli(['find', longhand, '-f', 'csv'], where);
    assert.is(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, `${idle.name},${idle.uuid},idle-1,`);
    assert.match(r3.stdout, `,${v6},fixed,6,persistent`);
  });

  t(`${where}: find by MAC, port UUID, tap device, instance UUID and nova's name`, () => {
    const vif = web.vifs[0];
    if (!vif) throw new Error('web has a VIF');
    const portRows = rowsOf(web, 'live').filter((r) => r.portId === vif.id);
    for (const [what, rows, taken] of [
      [vif.mac.toUpperCase(), portRows, 'a MAC address'],
      [vif.id, portRows, 'a port UUID'],
      [vif.dev, portRows, 'a tap device'],
      [web.uuid, rowsOf(web, 'live'), 'an instance UUID'],
      ['web-1', rowsOf(web, 'live'), "nova's name of an instance"],
      [idle.name, rowsOf(idle, 'persistent'), 'a domain name'],
    ] as const) {
      const r = cli(['find', what, '--json'], where);
      assert.is(r.code, 0, `${what}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout), rows, what);
      assert.match(r.stderr, `nova-ipmeta: find: ${what}: ${taken}\n`);
    }
  });

  t(`${where}: the stale persistent address of a running guest is not found; an unknown one neither`, () => {
    for (const address of [STALE, '192.0.2.99']) {
      const r = cli(['find', address], where);
      assert.is(r.code, 1, r.stderr);
      assert.is(r.stdout, '');
      assert.match(r.stderr, `no instance on this host holds ${address}`);
    }
  });

  t(`${where}: show by name and by UUID; a non-nova domain says so; an unknown one is exit 1 (not found)`, () => {
    const byName = cli(['show', web.name], where);
    assert.is(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, `domain ${web.name}  uuid ${web.uuid}  definition live  name web-1`);
    assert.match(byName.stdout, '203.0.113.10');
    assert.not.match(byName.stdout, STALE);
    const byUuid = cli(['show', idle.uuid, '--json'], where);
    assert.is(byUuid.code, 0, byUuid.stderr);
    const shown = JSON.parse(byUuid.stdout) as { domain: string; definition: string; nova: { namespace: string } };
    assert.equal([shown.domain, shown.definition, shown.nova.namespace], [idle.name, 'persistent', NS_1_0]);
    const other = cli(['show', notNova.name], where);
    assert.is(other.code, 0, other.stderr);
    assert.match(other.stdout, 'not a nova instance');
    const unknown = cli(['show', 'instance-000000ff'], where);
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, 'instance-000000ff');
  });

  t(`${where}: list gives the same rows as from the files`, () => {
    const r = cli(['list', '--json'], where);
    assert.is(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), [...rowsOf(web, 'live'), ...rowsOf(idle, 'persistent')]);
    // Absent or partial directories are what a containerized daemon looks like: libvirt fills in without a word.
    assert.is(r.stderr, '');
  });
}

// Last: it changes web's live definition. find's index (src/adapters/find-index.ts) over the files
// this daemon wrote: a change made through libvirt (which replaces the status file by rename) is
// seen by the very next find, while the index answers for everything else.
t("files, through find's index: a floating IP libvirt moved is found at once, the old one no more", async () => {
  const state = join(work, 'state');
  mkdirSync(state, { mode: 0o700 });
  const find = (what: string) => runBundle(['find', what, '-f', 'value', '-c', 'domain', '--connect', `qemu:///system?socket=${join(work, 'no-daemon-sock')}`, '--config', config, '--state-dir', state, '--live-xml-dir', d.liveXmlDir, '--persistent-xml-dir', d.persistentXmlDir]);
  // Files are indexed once they have stood still for two seconds.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  assert.is(find('203.0.113.10').stdout, `${web.name}\n`);
  const header = () => JSON.parse(readFileSync(join(state, 'find-index'), 'utf8').split('\n')[0] ?? '') as { dirs: string | null };
  assert.ok(header().dirs, 'every file indexed');
  const moved: TestVif[] = [{ ...(web.vifs[0] as TestVif), floating: ['203.0.113.99'] }, ...web.vifs.slice(1)];
  const payload = novaElement(NS_1_1, web.display, moved).replace(/nova:/g, '').replace(/ xmlns:nova="[^"]*"/, '');
  await d.virshOk('metadata', web.uuid, '--uri', NS_1_1, '--key', 'nova', '--set', payload, '--live');
  const found = find('203.0.113.99');
  assert.is(found.code, 0, found.stderr);
  assert.is(found.stdout, `${web.name}\n`);
  assert.is(find('203.0.113.10').code, 1);
  assert.is(find(idle.vifs[0]?.fixed[0] ?? '').stdout, `${idle.name}\n`);
  // A stopped guest's definition edited in place, by hand (libvirt never writes so): the index,
  // whole again once the change above has stood still, answers without it, as libvirt itself
  // does not see the edit; the daemon's restart (which loads it) rewrites the running guests'
  // status files by rename, and the next find checks every file and reads the edited one.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  assert.is(find('203.0.113.99').stdout, `${web.name}\n`);
  assert.ok(header().dirs, 'whole again');
  const edited = join(d.persistentXmlDir, `${idle.name}.xml`);
  const [old] = idle.vifs[0]?.fixed ?? [];
  const text = readFileSync(edited, 'utf8');
  assert.ok(old !== undefined && text.includes(old), 'the address is in the file');
  writeFileSync(edited, text.replace(old, '198.51.100.200'));
  assert.is(find('198.51.100.200').code, 1);
  await d.restart();
  assert.is(find('198.51.100.200').stdout, `${idle.name}\n`);
  assert.match(await d.virshOk('dumpxml', '--inactive', idle.uuid), '198.51.100.200');
});

t.run();
