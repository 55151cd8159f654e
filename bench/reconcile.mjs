// reconcile over 200 defined (stopped) nova domains on a private libvirt daemon:
//  - through nova-ipmeta's single virsh session (first run: every domain repaired),
//  - the second, in-sync run against the first,
//  - against the same virsh commands issued the naive way, one virsh process per call.
// Usage: node bench/reconcile.mjs [--domains N] [--rounds N]   (root; installs libvirt if missing)
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stats } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('domains', 200);
const ROUNDS = arg('rounds', 3);
const HARNESS = 'test/support/libvirtd.sh';
const BUNDLE = 'dist/nova-ipmeta.cjs';
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
function timed(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const domains = Array.from({ length: N }, (_, i) => {
  const port = randomUUID();
  const mac = `fa:16:3e:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
  return { name: `instance-${(0x5000 + i).toString(16).padStart(8, '0')}`, uuid: randomUUID(), port, mac, fixed: `10.${i >> 8}.${i & 255}.5`, floating: `198.51.${i >> 8}.${i & 255}` };
});
const instance = (d, ports) =>
  `<instance><name>${d.name}</name><owner><project uuid="p">demo</project></owner>${ports ? `<ports><port uuid="${d.port}"><ip type="fixed" address="${d.fixed}" ipVersion="4"/><ip type="floating" address="${d.floating}" ipVersion="4"/></port></ports>` : ''}</instance>`;
const domainXml = (d) => `<domain type='qemu'><name>${d.name}</name><uuid>${d.uuid}</uuid>
  <metadata><nova:instance xmlns:nova="${NS}"><nova:name>${d.name}</nova:name><nova:owner><nova:project uuid="p">demo</nova:project></nova:owner></nova:instance></metadata>
  <memory unit='MiB'>48</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='ethernet'><mac address='${d.mac}'/><target dev='tap${d.port.slice(0, 11)}' managed='yes'/><model type='virtio'/></interface></devices></domain>`;
const networkInfo = (d) =>
  JSON.stringify([{ id: d.port, address: d.mac, network: { subnets: [{ ips: [{ address: d.fixed, type: 'fixed', version: 4, floating_ips: [{ address: d.floating, type: 'floating', version: 4 }] }] }] } }]);

const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-bench-'));
const state = join(root, 'state');
try {
  sh(['bash', HARNESS, 'deps']);
  const uri = sh(['bash', HARNESS, 'start', root]).trim();
  if (spawnSync('node', [BUNDLE, '--version']).status !== 0) sh(['npm', 'run', 'build']);
  const xmlDir = join(root, 'domains');
  mkdirSync(xmlDir);
  for (const d of domains) writeFileSync(join(xmlDir, `${d.uuid}.xml`), domainXml(d));
  // (Re)defining replaces the persistent definition: the ports are gone again.
  const reset = () => sh(['virsh', '-c', uri], domains.map((d) => `define ${join(xmlDir, `${d.uuid}.xml`)}`).join('\n') + '\n');
  mkdirSync(join(state, 'network_info'), { recursive: true, mode: 0o700 });
  chmodSync(state, 0o700);
  for (const d of domains) writeFileSync(join(state, 'network_info', `${d.uuid}.json`), networkInfo(d), { mode: 0o600 });

  const reconcile = () => sh(['node', BUNDLE, 'reconcile', '--connect', uri, '--state-dir', state, '--json']);
  const perProcess = () => {
    const virsh = (...a) => sh(['virsh', '-c', uri, ...a]);
    virsh('list', '--all', '--uuid', '--name');
    virsh('list', '--uuid');
    for (const d of domains) {
      virsh('dumpxml', '--domain', d.uuid, '--inactive');
      virsh('metadata', '--domain', d.uuid, '--uri', NS, '--config');
      virsh('metadata', '--domain', d.uuid, '--uri', NS, '--key', 'nova', '--set', instance(d, true), '--config');
    }
  };
  const first = [];
  const second = [];
  const naive = [];
  for (let r = 0; r < ROUNDS; r++) {
    reset();
    first.push(
      timed(() => {
        const report = JSON.parse(reconcile());
        if (report.summary.repaired !== N) throw new Error(`expected ${N} repaired: ${JSON.stringify(report.summary)}`);
      }),
    );
    second.push(
      timed(() => {
        const report = JSON.parse(reconcile());
        if (report.summary['in-sync'] !== N) throw new Error(`expected ${N} in-sync: ${JSON.stringify(report.summary)}`);
      }),
    );
    reset();
    naive.push(timed(perProcess));
  }
  const [f, s, n] = [stats(first), stats(second), stats(naive)];
  console.log(`\nreconcile over ${N} stopped nova domains (median of ${ROUNDS} rounds)`);
  console.log(`  one virsh process per call (same commands)   ${n.median.toFixed(0).padStart(7)} ms   1.00x (baseline)`);
  console.log(`  nova-ipmeta reconcile, first run (repairs)    ${f.median.toFixed(0).padStart(7)} ms   ${(n.median / f.median).toFixed(1)}x faster`);
  console.log(`  nova-ipmeta reconcile, second run (in sync)   ${s.median.toFixed(0).padStart(7)} ms   ${(f.median / s.median).toFixed(1)}x faster than the first run`);
} finally {
  spawnSync('bash', [HARNESS, 'stop', root]);
  rmSync(root, { recursive: true, force: true });
}
