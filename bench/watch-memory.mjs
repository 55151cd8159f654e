// The watcher's memory over an hour of events for 200 domains (private libvirt daemon, defined
// nova domains): an hour of a busy host, compressed into the time the watcher takes to handle it:
// every domain's cache file changes once a "minute" (a floating IP moves: a repair, then the
// metadata-change event of our own write, found in sync), and nova rewrites every domain's element
// every ten "minutes" (a metadata-change event: a repair). RSS of the watcher's Node process
// (and of its virsh session) after its startup run, then after every round; flat means no trend.
// Usage: node bench/watch-memory.mjs [--domains N] [--minutes N]   (root; installs libvirt if missing)
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanUpWhenGone, measuredEnv, sh } from './lib.mjs';

const { values: opts } = parseArgs({ options: { domains: { type: 'string', default: '200' }, minutes: { type: 'string', default: '60' } } });
const N = Number(opts.domains);
const MINUTES = Number(opts.minutes);
const HARNESS = 'test/support/libvirtd.sh';
const BUNDLE = 'dist/nova-ipmeta.cjs';
const NS = 'http://openstack.org/xmlns/libvirt/nova/1.1';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssKiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const children = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

const domains = Array.from({ length: N }, (_, i) => {
  const port = randomUUID();
  const mac = `fa:16:3e:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:02`;
  return { name: `instance-${(0x6000 + i).toString(16).padStart(8, '0')}`, uuid: randomUUID(), port, mac, fixed: `10.${i >> 8}.${i & 255}.5` };
});
const domainXml = (d) => `<domain type='qemu'><name>${d.name}</name><uuid>${d.uuid}</uuid>
  <metadata><nova:instance xmlns:nova="${NS}"><nova:name>${d.name}</nova:name><nova:owner><nova:project uuid="p">demo</nova:project></nova:owner></nova:instance></metadata>
  <memory unit='MiB'>48</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='ethernet'><mac address='${d.mac}'/><target dev='tap${d.port.slice(0, 11)}' managed='yes'/><model type='virtio'/></interface></devices></domain>`;
const networkInfo = (d, minute) =>
  JSON.stringify([
    { id: d.port, address: d.mac, network: { subnets: [{ ips: [{ address: d.fixed, type: 'fixed', version: 4, floating_ips: [{ address: `198.51.${minute % 2}.${(d.fixed.split('.')[2] ?? 0)}`, type: 'floating', version: 4 }] }] }] } },
  ]);
/** What nova writes when it rebuilds its element: no floating IPs. */
const novaElement = (d, minute) =>
  `<instance><name>${d.name}</name><owner><project uuid="p">demo</project></owner><ports><port uuid="${d.port}"><ip type="fixed" address="${d.fixed}" ipVersion="4"/></port></ports><!-- ${minute} --></instance>`;

const root = mkdtempSync(join(tmpdir(), 'nova-ipmeta-bench-watch-'));
const state = join(root, 'state');
const cacheDir = join(state, 'network_info');
let watcher;
try {
  sh(['bash', HARNESS, 'deps']);
  await cleanUpWhenGone(['bash', HARNESS, 'stop', root], root);
  const uri = sh(['bash', HARNESS, 'start', root]).trim();
  if (spawnSync(process.execPath, [BUNDLE, '--version']).status !== 0) sh(['npm', 'run', 'build']);
  const xmlDir = join(root, 'domains');
  mkdirSync(xmlDir);
  for (const d of domains) writeFileSync(join(xmlDir, `${d.uuid}.xml`), domainXml(d));
  sh(['virsh', '-c', uri], domains.map((d) => `define ${join(xmlDir, `${d.uuid}.xml`)}`).join('\n') + '\n');
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  chmodSync(state, 0o700);
  const putCache = (d, minute) => {
    const tmp = join(cacheDir, `.${d.uuid}.json.tmp`);
    writeFileSync(tmp, networkInfo(d, minute), { mode: 0o600 });
    renameSync(tmp, join(cacheDir, `${d.uuid}.json`));
  };
  for (const d of domains) putCache(d, 0);

  let log = '';
  watcher = spawn(process.execPath, [BUNDLE, 'watch', '--connect', uri, '--state-dir', state, '--debounce', '20'], { stdio: ['ignore', 'ignore', 'pipe'], env: measuredEnv() });
  watcher.stderr.on('data', (b) => (log += b.toString()));
  const repaired = () => (log.match(/: repaired \(/g) ?? []).length;
  const until = async (what, ok, timeoutMs = 600_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log tail: ${log.slice(-2000)}`);
      if (watcher.exitCode !== null) throw new Error(`the watcher exited ${watcher.exitCode}: ${log.slice(-2000)}`);
      await sleep(50);
    }
  };
  await until('the startup run', () => /all domains reconciled \(startup\)/.test(log));
  if (repaired() !== N) throw new Error(`startup: ${repaired()} repaired, expected ${N}`);
  // The events of our own writes at startup: handled once the log stays quiet.
  const settle = async () => {
    let last = log.length;
    for (;;) {
      await sleep(1500);
      if (log.length === last) return;
      last = log.length;
    }
  };
  await settle();

  const sample = () => {
    const virsh = children(watcher.pid).reduce((sum, pid) => sum + (rssKiB(pid) || 0), 0);
    return { node: rssKiB(watcher.pid), virsh };
  };
  const samples = [sample()];
  console.log(`watcher RSS after its startup run: ${(samples[0].node / 1024).toFixed(1)} MiB`);
  let expected = repaired();
  const t0 = Date.now();
  for (let minute = 1; minute <= MINUTES; minute++) {
    for (const d of domains) putCache(d, minute);
    expected += N;
    await until(`minute ${minute}`, () => repaired() >= expected);
    if (minute % 10 === 0) {
      // After the cache's repairs: a rewrite that met a repair still waiting would share its job.
      sh(['virsh', '-q', '-c', uri], domains.map((d) => `metadata --domain ${d.uuid} --uri ${NS} --key nova --set '${novaElement(d, minute)}' --config`).join('\n') + '\n');
      expected += N;
      await until(`nova's rewrite at minute ${minute}`, () => repaired() >= expected);
    }
    samples.push(sample());
    console.log(`  after ${minute} "minute${minute === 1 ? '' : 's'}": watcher RSS ${(samples.at(-1).node / 1024).toFixed(1)} MiB (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await settle();
  samples.push(sample());
  const seconds = (Date.now() - t0) / 1000;
  const events = (MINUTES + Math.floor(MINUTES / 10)) * N;
  const errors = (log.match(/: error \(/g) ?? []).length;
  const mb = (k) => (k / 1024).toFixed(1);
  console.log(`\nwatcher memory: ${N} domains, ${MINUTES} "minutes" of changes (${events} changes, each a repair and the event of its own write) in ${seconds.toFixed(0)} s; ${repaired()} repairs logged, ${errors} errors; Node ${process.version}`);
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const firstQ = avg(samples.slice(1, 1 + q).map((s) => s.node));
  const lastQ = avg(samples.slice(-q).map((s) => s.node));
  console.log(`  watcher RSS after its startup run   ${mb(samples[0].node)} MiB (virsh session ${mb(samples[0].virsh)} MiB)`);
  console.log(`  watcher RSS at the end              ${mb(samples.at(-1).node)} MiB (virsh session ${mb(samples.at(-1).virsh)} MiB)`);
  console.log(`  min / max over the run              ${mb(Math.min(...samples.map((s) => s.node)))} / ${mb(Math.max(...samples.map((s) => s.node)))} MiB`);
  console.log(`  mean of the first / last quarter    ${mb(firstQ)} / ${mb(lastQ)} MiB (${(((lastQ - firstQ) / firstQ) * 100).toFixed(1)}%)`);
  console.log(`  every 10 minutes (MiB)              ${samples.filter((_, i) => i % 10 === 0).map((s) => mb(s.node)).join(' ')}`);
} finally {
  if (watcher && watcher.exitCode === null) {
    watcher.kill('SIGTERM');
    await new Promise((r) => watcher.once('exit', r));
  }
  spawnSync('bash', [HARNESS, 'stop', root]);
  rmSync(root, { recursive: true, force: true });
}
