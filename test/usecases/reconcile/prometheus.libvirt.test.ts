/**
 * The fleet answer through a real Prometheus (docs/admin-guide.md, "Who holds an address"): two
 * compute hosts, each a private libvirt daemon with real QEMU guests and a state directory of its
 * own. compute-1 is a Debian host whose node_exporter (Debian's, real) reads the textfile that
 * `reconcile --textfile` writes; compute-2 is a kolla host without a textfile directory, scraped
 * at the watcher's `/metrics`. The floating IP 203.0.113.25 moves from web-1 on compute-1 to web-2
 * on compute-2, and PromQL must answer who holds it now and who held it before, with the right
 * host, instance, port and project. The guide's `sh test-prometheus` blocks then run against the
 * same Prometheus, their output compared with the guide's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLE, runBundle } from '../../support/cli';
import { freePort } from '../../support/free-port';
import { checkStep, fencedBlocks, steps } from '../../support/guide-blocks';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../../support/libvirt';
import { cachePut, makeVif, novaInstance, NS_1_1, type TestVif } from '../../support/nova-guest';
import { prometheusBinaries, startNodeExporter, startPrometheus, type NodeExporter, type RealPrometheus, type Series } from '../../support/prometheus';

const GUIDE = fileURLToPath(new URL('../../../docs/admin-guide.md', import.meta.url));
const ADDRESS = '203.0.113.25';
const PROJECT = 'f241e906-010e-4917-ae81-53f4fb8aa021';
/** Long enough for a 15 s step of the guide's range query to see each holder. */
const HOLD_MS = 20_000;

interface Host {
  name: string;
  instance: string;
  d: PrivateLibvirt;
  state: string;
}
interface Guest {
  name: string;
  display: string;
  uuid: string;
  vifs: TestVif[];
}

// The guide's example: the ids are the guide's, the addresses its own.
const web1: Guest = { name: 'instance-0000004a', display: 'web-1', uuid: '3f2c9a7e-1b4d-4e6f-8a9b-0c1d2e3f4a5b', vifs: [{ ...makeVif({ fixed: ['10.0.0.11'], floating: [ADDRESS] }), id: '6b1e2d3c-4f5a-4b6c-8d7e-9f0a1b2c3d4e', dev: 'tap6b1e2d3c-4f' }] };
const web2: Guest = { name: 'instance-0000004b', display: 'web-2', uuid: 'c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f', vifs: [{ ...makeVif({ fixed: ['10.0.0.12'] }), id: '7c2f3e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f', dev: 'tap7c2f3e4d-5a' }] };
/** A name that breaks a text format that does not escape: quotes, a backslash, braces, a comma, an equals sign. */
const evil: Guest = { name: 'evil "q" \\ {x="1"},y=é', display: 'evil', uuid: randomUUID(), vifs: [makeVif({ fixed: ['10.0.0.66'] })] };

const t = suite('the fleet answer through Prometheus');
let cn1: Host;
let cn2: Host;
let textfiles: string;
let exporter: NodeExporter;
let watcher: ChildProcess;
let prom: RealPrometheus;
let started: number;
let heldAt: number;
let ended: number;

const cli = (h: Host, ...args: string[]) => runBundle([...args, '--connect', h.d.uri, '--state-dir', h.state]);
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function define(h: Host, g: Guest): Promise<void> {
  const file = join(h.d.root, `${g.uuid}.xml`);
  writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: g.vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: NS_1_1, name: g.display, projectId: PROJECT }) }));
  await h.d.virshOk('define', file);
  await h.d.virshOk('start', g.uuid);
  cachePut((...a) => cli(h, ...a), g.uuid, g.vifs, h.state);
}

/** The periodic reconcile of each host: compute-1 writes its textfile, compute-2 its record for the watcher. */
function periodicRun(h: Host): void {
  const r = h === cn1 ? cli(h, 'reconcile', '--textfile', join(textfiles, 'nova-ipmeta.prom')) : cli(h, 'reconcile');
  assert.is(r.code, 0, r.stderr + r.stdout);
}

const holders = (series: Series[]) => series.map((s) => `${s.metric.instance ?? '?'} ${s.metric.domain ?? '?'}`).sort();

t.before(async () => {
  prometheusBinaries();
  const [d1, d2] = [await startPrivateLibvirt(), await startPrivateLibvirt()];
  cleanupOnExit(d1);
  cleanupOnExit(d2);
  cn1 = { name: 'compute-1', instance: 'compute-1:9100', d: d1, state: mkdtempSync(join(tmpdir(), 'nova-ipmeta-cn1-')) };
  cn2 = { name: 'compute-2', instance: 'compute-2:9949', d: d2, state: mkdtempSync(join(tmpdir(), 'nova-ipmeta-cn2-')) };
  textfiles = mkdtempSync(join(tmpdir(), 'nova-ipmeta-textfile-'));
  await define(cn1, web1);
  await define(cn1, evil);
  await define(cn2, web2);
  exporter = await startNodeExporter(textfiles);
  const metricsPort = await freePort();
  watcher = spawn(process.execPath, [BUNDLE, 'watch', '--connect', cn2.d.uri, '--state-dir', cn2.state, '--metrics-listen', `127.0.0.1:${metricsPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  watcher.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const deadline = Date.now() + 30_000;
  while (!log.includes('serving metrics at')) {
    assert.ok(watcher.exitCode === null && Date.now() < deadline, `the watcher did not start serving: ${log}`);
    await sleep(100);
  }
  prom = await startPrometheus([
    { job: 'node', targets: [{ address: exporter.address, instance: cn1.instance }] },
    { job: 'nova-ipmeta', targets: [{ address: `127.0.0.1:${metricsPort}`, instance: cn2.instance }] },
  ]);
});

t.after(async () => {
  watcher.kill('SIGTERM');
  await prom.stop();
  await exporter.stop();
  for (const h of [cn1, cn2]) {
    await h.d.stop();
    rmSync(h.state, { recursive: true, force: true });
  }
  rmSync(textfiles, { recursive: true, force: true });
});

t('the address moves from web-1 on compute-1 to web-2 on compute-2; the XML says so on each host', async () => {
  started = now();
  periodicRun(cn1);
  periodicRun(cn2);
  await prom.waitFor(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`, (s) => s.length === 1);
  await prom.waitFor(`nova_ipmeta_instance_ip_info{instance="${cn2.instance}"}`, (s) => s.length === 1);
  await sleep(HOLD_MS / 2);
  heldAt = now();
  await sleep(HOLD_MS / 2);

  web1.vifs[0]?.floating.splice(0);
  web2.vifs[0]?.floating.push(ADDRESS);
  cachePut((...a) => cli(cn1, ...a), web1.uuid, web1.vifs, cn1.state);
  periodicRun(cn1);
  cachePut((...a) => cli(cn2, ...a), web2.uuid, web2.vifs, cn2.state);
  periodicRun(cn2);
  await prom.waitFor(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`, (s) => holders(s).join() === `${cn2.instance} ${web2.name}`);
  await sleep(HOLD_MS);
  ended = now();

  assert.not.match(await cn1.d.virshOk('dumpxml', web1.uuid), ADDRESS);
  assert.match(await cn2.d.virshOk('dumpxml', web2.uuid), `type="floating" address="${ADDRESS}"`);
});

t('who holds it now: compute-2, web-2, its port and project', async () => {
  const series = await prom.query(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`);
  assert.is(series.length, 1, JSON.stringify(series));
  assert.equal(series[0]?.metric, {
    __name__: 'nova_ipmeta_instance_ip_info',
    address: ADDRESS,
    domain: web2.name,
    instance: cn2.instance,
    instance_id: web2.uuid,
    ip_version: '4',
    job: 'nova-ipmeta',
    port_id: web2.vifs[0]?.id ?? '',
    project_id: PROJECT,
    type: 'floating',
  });
});

t('who held it at time T: compute-1, web-1, by an instant query at T and by the @ modifier', async () => {
  for (const series of [await prom.query(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`, heldAt), await prom.query(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"} @ ${heldAt}`)]) {
    assert.equal(holders(series), [`${cn1.instance} ${web1.name}`]);
    assert.is(series[0]?.metric.instance_id, web1.uuid);
    assert.is(series[0]?.metric.port_id, web1.vifs[0]?.id);
    assert.is(series[0]?.metric.job, 'node');
  }
  const before = await prom.query(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`, started - 60);
  assert.equal(before, [], 'nobody before the first run');
});

t('the timeline: web-1 first, then web-2, each for as long as it held it', async () => {
  const range = await prom.queryRange(`nova_ipmeta_instance_ip_info{address="${ADDRESS}"}`, started, ended, 1);
  assert.equal(holders(range.map((r) => ({ metric: r.metric, value: [0, ''] }))), [`${cn1.instance} ${web1.name}`, `${cn2.instance} ${web2.name}`]);
  const span = (instance: string) => {
    const values = range.find((r) => r.metric.instance === instance)?.values.map(([ts]) => ts) ?? [];
    return [Math.min(...values), Math.max(...values)] as const;
  };
  const [firstA, lastA] = span(cn1.instance);
  const [firstB, lastB] = span(cn2.instance);
  assert.ok(firstA <= heldAt && heldAt <= lastA, `web-1 held it at T: ${firstA}..${lastA}, T ${heldAt}`);
  assert.ok(firstA < firstB && lastA < lastB, `web-1 (${firstA}..${lastA}) before web-2 (${firstB}..${lastB})`);
  assert.ok(lastB >= ended - 2, 'web-2 holds it to the end');
});

t('a hostile domain name comes out of Prometheus exactly as libvirt holds it', async () => {
  const series = await prom.query(`nova_ipmeta_instance_ip_info{instance_id="${evil.uuid}"}`);
  assert.is(series.length, 1, JSON.stringify(series));
  assert.is(series[0]?.metric.domain, evil.name);
  const up = await prom.query('up');
  assert.equal(up.map((s) => `${s.metric.instance ?? ''}=${s.value[1]}`).sort(), [`${cn1.instance}=1`, `${cn2.instance}=1`], 'both scrapes parse');
});

t("compute-2's /metrics: the last run's record and the watcher's own series", async () => {
  const success = await prom.query(`nova_ipmeta_reconcile_success{instance="${cn2.instance}"}`);
  assert.is(success[0]?.value[1], '1');
  const repaired = await prom.waitFor(`nova_ipmeta_watch_reconciles_total{instance="${cn2.instance}",outcome="in-sync"}`, (s) => s.length === 1);
  assert.ok(Number(repaired[0]?.value[1]) >= 1, 'the watcher reconciled at its start');
  const lastRun = await prom.query(`nova_ipmeta_reconcile_last_run_timestamp_seconds{instance="${cn2.instance}"}`);
  assert.ok(Number(lastRun[0]?.value[1]) >= started);
});

t("the guide's queries, run against these two hosts", () => {
  const { promtool } = prometheusBinaries();
  const iso = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const env = { ...process.env, PATH: `${dirname(promtool)}:${process.env.PATH ?? '/usr/bin:/bin'}`, T: iso(heldAt), FROM: iso(started), TO: iso(ended), LC_ALL: 'C.UTF-8' };
  let ran = 0;
  for (const block of fencedBlocks(readFileSync(GUIDE, 'utf8')).filter((b) => b.info === 'sh test-prometheus')) {
    for (const step of steps(block)) {
      const command = step.command.split('http://prometheus:9090').join(prom.url);
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', `exec 2>&1\n${command}`], { env, encoding: 'utf8', timeout: 60_000 });
      checkStep(step, { code: r.status ?? -1, output: r.stdout });
      ran++;
    }
  }
  assert.ok(ran >= 5, `only ${ran} of the guide's queries ran`);
});

t.run();
