// reconcile over 200 defined (stopped) nova domains on a private libvirt daemon, against the floor:
// the same per-domain libvirt work done in-process through libvirt's own Python binding (Debian's
// python3-libvirt, installed by `libvirtd.sh deps --python` for this benchmark only), one
// connection, timed inside Python from the listing to the last call:
//  - first run (every domain repaired) against `listAllDomains` + `XMLDesc` + `setMetadata` per domain;
//  - in-sync run against `listAllDomains` + `XMLDesc` per domain, plus `node -e 0` (any Node
//    command starts at least that late): nova-ipmeta deciding from libvirt's files it reads,
//    deciding from what it remembers of them (the timer's usual run: the files have not changed
//    since the last run found them in sync), the same with the timer's own arguments
//    (`--auto-sync`, finding no credentials, and `--textfile`), and asking libvirt for every
//    domain (what it does when the files are not visible);
//  - optionally (--naive) the same virsh commands one virsh process per call, once.
// Every contender runs once per round, interleaved; medians of the rounds, their spread (min-max),
// and the libvirt commands each nova-ipmeta run reports (`reconcile --json`).
// Usage: node bench/reconcile.mjs [--domains N] [--rounds N] [--naive]   (root; installs what it needs)
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanUpWhenGone, sh, stats } from './lib.mjs';

const { values: opts } = parseArgs({
  options: { domains: { type: 'string', default: '200' }, rounds: { type: 'string', default: '7' }, naive: { type: 'boolean', default: false } },
});
const N = Number(opts.domains);
const ROUNDS = Number(opts.rounds);
const HARNESS = 'test/support/libvirtd.sh';
const BUNDLE = 'dist/nova-ipmeta.cjs';
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';
// Debian's python3, where python3-libvirt installs (not a python3 that PATH may find first).
const PYTHON = '/usr/bin/python3';

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

const domains = Array.from({ length: N }, (_, i) => {
  const port = randomUUID();
  const mac = `fa:16:3e:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
  return { name: `instance-${(0x5000 + i).toString(16).padStart(8, '0')}`, uuid: randomUUID(), port, mac, fixed: `10.${i >> 8}.${i & 255}.5`, floating: `198.51.${i >> 8}.${i & 255}` };
});
const instance = (d) =>
  `<instance><name>${d.name}</name><owner><project uuid="p">demo</project></owner><ports><port uuid="${d.port}"><ip type="fixed" address="${d.fixed}" ipVersion="4"/><ip type="floating" address="${d.floating}" ipVersion="4"/></port></ports></instance>`;
const domainXml = (d) => `<domain type='qemu'><name>${d.name}</name><uuid>${d.uuid}</uuid>
  <metadata><nova:instance xmlns:nova="${NS}"><nova:name>${d.name}</nova:name><nova:owner><nova:project uuid="p">demo</nova:project></nova:owner></nova:instance></metadata>
  <memory unit='MiB'>48</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='ethernet'><mac address='${d.mac}'/><target dev='tap${d.port.slice(0, 11)}' managed='yes'/><model type='virtio'/></interface></devices></domain>`;
const networkInfo = (d) =>
  JSON.stringify([{ id: d.port, address: d.mac, network: { subnets: [{ ips: [{ address: d.fixed, type: 'fixed', version: 4, floating_ips: [{ address: d.floating, type: 'floating', version: 4 }] }] }] } }]);

// The floor: one connection, the listing, then per domain what reconcile needs of libvirt.
// Prints the milliseconds from the listing to the last call (interpreter start, import and
// connection excluded: the floor is the libvirt work alone).
const FLOOR = `
import json, sys, time, libvirt
uri, write = sys.argv[1], sys.argv[2] == 'write'
payloads = json.load(sys.stdin)
conn = libvirt.open(uri)
t0 = time.perf_counter()
for dom in conn.listAllDomains(0):
    dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    if write:
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, payloads[dom.UUIDString()], 'nova', '${NS}', libvirt.VIR_DOMAIN_AFFECT_CONFIG)
print(json.dumps({'ms': (time.perf_counter() - t0) * 1000}))
`;

const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-bench-'));
const state = join(root, 'state');
let uri;
try {
  sh(['bash', HARNESS, 'deps', '--python']);
  await cleanUpWhenGone(['bash', HARNESS, 'stop', root], root);
  uri = sh(['bash', HARNESS, 'start', root]).trim();
  if (spawnSync(process.execPath, [BUNDLE, '--version']).status !== 0) sh(['npm', 'run', 'build']);
  // As installed: with V8's code cache for this Node (install.sh and the package make it).
  sh([process.execPath, BUNDLE, '--write-code-cache']);
  const xmlDir = join(root, 'domains');
  mkdirSync(xmlDir);
  for (const d of domains) writeFileSync(join(xmlDir, `${d.uuid}.xml`), domainXml(d));
  // (Re)defining replaces the persistent definition: the ports are gone again.
  const reset = () => sh(['virsh', '-c', uri], domains.map((d) => `define ${join(xmlDir, `${d.uuid}.xml`)}`).join('\n') + '\n');
  mkdirSync(join(state, 'network_info'), { recursive: true, mode: 0o700 });
  chmodSync(state, 0o700);
  for (const d of domains) writeFileSync(join(state, 'network_info', `${d.uuid}.json`), networkInfo(d), { mode: 0o600 });
  const payloads = JSON.stringify(Object.fromEntries(domains.map((d) => [d.uuid, instance(d)])));

  const files = ['--live-xml-dir', join(root, 'run/qemu'), '--persistent-xml-dir', join(root, 'etc/qemu')];
  const reconcile = (expect, ...extra) => {
    const report = JSON.parse(sh([process.execPath, BUNDLE, 'reconcile', '--connect', uri, '--state-dir', state, '--json', ...extra]));
    if (report.summary[expect] !== N) throw new Error(`expected ${N} ${expect}: ${JSON.stringify(report.summary)}`);
    return report;
  };
  const floor = (mode) => JSON.parse(sh([PYTHON, '-c', FLOOR, uri, mode], payloads)).ms;

  // The timer's own command (packaging/lib/periodic-reconcile), with node_exporter's directory
  // there: `--auto-sync` looks for Neutron credentials and finds none in an empty config file
  // (nor, on a machine without OpenStack, anywhere else: checked below), `--textfile` writes the
  // run's metrics.
  const emptyConfig = join(root, 'empty.conf');
  writeFileSync(emptyConfig, '');
  const textfile = join(root, 'nova-ipmeta.prom');
  const timer = [...files, '--config', emptyConfig, '--auto-sync', '--textfile', textfile];

  const samples = { floorWrite: [], floorRead: [], nodeBare: [], first: [], inSyncFiles: [], inSyncRemembered: [], inSyncTimer: [], inSyncVirsh: [] };
  const commands = { first: new Set(), inSyncFiles: new Set(), inSyncRemembered: new Set(), inSyncTimer: new Set(), inSyncVirsh: new Set() };
  const remembered = { inSyncFiles: new Set(), inSyncRemembered: new Set(), inSyncTimer: new Set() };
  for (let r = 0; r < ROUNDS; r++) {
    reset();
    samples.floorWrite.push(floor('write'));
    samples.floorRead.push(floor('read'));
    samples.nodeBare.push(timed(() => sh([process.execPath, '-e', '0'])).ms);
    reset();
    for (const [key, expect, extra] of [
      ['first', 'repaired', files],
      ['settle', '', []],
      ['inSyncFiles', 'in-sync', files],
      ['inSyncRemembered', 'in-sync', files],
      ['inSyncTimer', 'in-sync', timer],
      ['inSyncVirsh', 'in-sync', []],
    ]) {
      // A run remembers what it finds in sync only from files that stood still for 2 s.
      if (key === 'settle') {
        spawnSync('sleep', ['2.1']);
        continue;
      }
      const { ms, value } = timed(() => reconcile(expect, ...extra));
      if (key === 'inSyncTimer' && /^nova_ipmeta_sync_/m.test(readFileSync(textfile, 'utf8'))) throw new Error('the timer\'s run found Neutron credentials and synced: run this bench where it finds none');
      samples[key].push(ms);
      commands[key].add(value.libvirtCommands);
      remembered[key]?.add(value.rememberedInSync);
    }
  }
  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { ...stats(v), max: Math.max(...v) }]));
  const inSyncFloor = s.floorRead.median + s.nodeBare.median;
  const row = (label, x, against, note = '') =>
    console.log(`  ${label.padEnd(52)} ${x.median.toFixed(0).padStart(6)} ms  (${x.min.toFixed(0)}-${x.max.toFixed(0)})  ${against ? `${(x.median / against).toFixed(2)}x` : ''} ${note}`);
  console.log(`\nreconcile over ${N} stopped nova domains: medians of ${ROUNDS} interleaved rounds (min-max), Node ${process.version}`);
  row('floor: Python binding, list + XMLDesc + setMetadata', s.floorWrite, 0, '(the write floor)');
  row('floor: Python binding, list + XMLDesc', s.floorRead, 0);
  row('node -e 0', s.nodeBare, 0, `(in-sync floor: ${inSyncFloor.toFixed(0)} ms with the read above)`);
  row('nova-ipmeta reconcile, first run (repairs)', s.first, s.floorWrite.median, `the write floor; goal <= 3x; libvirt commands ${[...commands.first].join('/')}`);
  row("nova-ipmeta reconcile, in sync, libvirt's files read", s.inSyncFiles, inSyncFloor, `the in-sync floor; libvirt commands ${[...commands.inSyncFiles].join('/')}; remembered ${[...remembered.inSyncFiles].join('/')}`);
  row('nova-ipmeta reconcile, in sync, unchanged files remembered', s.inSyncRemembered, inSyncFloor, `the in-sync floor; goal <= 1.5x; libvirt commands ${[...commands.inSyncRemembered].join('/')}; remembered ${[...remembered.inSyncRemembered].join('/')}`);
  row("  the same, with the timer's --auto-sync --textfile", s.inSyncTimer, inSyncFloor, `the in-sync floor; libvirt commands ${[...commands.inSyncTimer].join('/')}; remembered ${[...remembered.inSyncTimer].join('/')}; no credentials found`);
  row('nova-ipmeta reconcile, in sync, asking libvirt', s.inSyncVirsh, inSyncFloor, `the in-sync floor; libvirt commands ${[...commands.inSyncVirsh].join('/')}`);

  if (opts.naive) {
    reset();
    const naive = timed(() => {
      const virsh = (...a) => sh(['virsh', '-c', uri, ...a]);
      virsh('list', '--all', '--uuid', '--id', '--name');
      for (const d of domains) {
        virsh('dumpxml', '--domain', d.uuid, '--inactive');
        virsh('dumpxml', '--domain', d.uuid, '--inactive');
        virsh('metadata', '--domain', d.uuid, '--uri', NS, '--key', 'nova', '--set', instance(d), '--config');
      }
    }).ms;
    console.log(`  ${'the same virsh commands, one virsh process per call'.padEnd(52)} ${naive.toFixed(0).padStart(6)} ms  (once)  ${(naive / s.first.median).toFixed(1)}x nova-ipmeta's first run`);
  }
} finally {
  spawnSync('bash', [HARNESS, 'stop', root]);
  rmSync(root, { recursive: true, force: true });
}
