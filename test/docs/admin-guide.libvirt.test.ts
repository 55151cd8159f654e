/**
 * docs/admin-guide.md, executed: every fenced block the guide marks runs, in the order of the
 * guide, so the guide cannot drift from the code.
 *
 *   ```sh test          each `$ ` line (a trailing `\` continues it) runs in bash -o pipefail,
 *                       stdout and stderr merged, against a private libvirt daemon holding the
 *                       guide's two instances, with the bundle on PATH as `nova-ipmeta`; it must
 *                       exit 0 (the guide shows `; echo "exit status $?"` where it does not).
 *                       The lines after a command are its expected output, all of it: `<...>`
 *                       matches any text within a line, a line `...` any number of lines.
 *   ```sh test-install  the same, as root inside test/support/sandbox.sh (a copy-on-write /etc,
 *                       /usr, /var), from the repository's root, `sudo ` dropped.
 *   ```sh not-run       shown only (systemctl, apt, mysql on a real host): counted, kept few.
 *   ```sh test-prometheus  PromQL against two compute hosts' series in a real Prometheus: run
 *                       by test/usecases/reconcile/prometheus.libvirt.test.ts, which builds them.
 *   ```yaml test-rules  Prometheus alerting rules: `promtool check rules`, then unit-tested
 *                       against series like those `reconcile --textfile` writes (promtool from
 *                       Debian's prometheus package: test/support/prometheus.sh).
 * A real Neutron (test/support/neutron.ts) holds the guide's two instances' ports, for its cache
 * sync example; the guide's config names it in a [neutron] section.
 * Any other `sh` block fails the test. The host paths the guide names (/run/libvirt/qemu,
 * /etc/libvirt/qemu, /var/lib/nova-ipmeta, node_exporter's textfile directory) are mapped to the
 * private daemon's and this test's directories; the environment (LIBVIRT_DEFAULT_URI,
 * NOVA_IPMETA_CONFIG) points every command there.
 *
 * DOCS_DUMP=1 prints what each command printed, for writing the guide.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyBundle, fixturePath } from '../support/cli';
import { cleanupOnExit, guestXml, startPrivateLibvirt, type PrivateLibvirt } from '../support/libvirt';
import { networkInfo, type TestVif } from '../support/nova-guest';
import { checkStep, fencedBlocks, steps, type Ran } from '../support/guide-blocks';
import { prometheusBinaries } from '../support/prometheus';
import { PROJECT, startNeutron, type RealNeutron } from '../support/neutron';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const GUIDE = join(REPO, 'docs/admin-guide.md');
const SANDBOX_SH = join(REPO, 'test/support/sandbox.sh');
/** Blocks that cannot run here; more than this means the guide is drifting away from its test. */
const MAX_NOT_RUN = 8;

const t = suite('the admin guide, executed');
let d: PrivateLibvirt;
let neutron: RealNeutron;
let work: string;
let env: Record<string, string>;
let paths: [string, string][];
const blocks = fencedBlocks(readFileSync(GUIDE, 'utf8'));

// The guide's two instances: db-1 as nova >= 23 left it (fixed IPs of its first port only, namespace
// 1.1), web-1 as nova < 23 left it (no ports, namespace 1.0). The fixtures' ids and addresses.
const DB = { name: 'instance-0000002b', uuid: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5' };
const WEB = { name: 'instance-0000002a', uuid: '9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a' };
const WEB_VIF: TestVif = {
  id: 'c2f4a9d1-7e3b-4a60-9f15-2b8d6e4c1a07',
  mac: 'fa:16:3e:2a:91:5c',
  dev: 'tapc2f4a9d1-7e',
  fixed: ['192.168.1.7', 'fdf8:f53b:82e4::7'],
  floating: ['11.22.33.45'],
};

function novaElement(fixture: string): string {
  const xml = readFileSync(fixturePath(`domains/${fixture}`), 'utf8');
  const m = /<nova:instance[\s\S]*?<\/nova:instance>/.exec(xml);
  assert.ok(m, `no nova:instance in ${fixture}`);
  return m[0];
}

function interfacesOf(fixture: string): { mac: string; dev: string }[] {
  const xml = readFileSync(fixturePath(`domains/${fixture}`), 'utf8');
  return [...xml.matchAll(/<mac address='([^']+)'\/>\s*<target dev='([^']+)'\/>/g)].map((m) => ({ mac: (m[1] ?? '').toLowerCase(), dev: m[2] ?? '' }));
}

t.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'nova-ipmeta-docs-'));
  [d, neutron] = await Promise.all([startPrivateLibvirt(), startNeutron()]);
  cleanupOnExit(d);
  await neutronPorts();
  const bin = join(work, 'bin');
  const state = join(work, 'state');
  const textfiles = join(work, 'node-exporter');
  mkdirSync(bin);
  mkdirSync(state, { mode: 0o700 });
  mkdirSync(textfiles);
  // As installed: a copy of the bundle with V8's code cache for this Node beside it.
  const lib = join(work, 'lib');
  mkdirSync(lib);
  const bundle = join(lib, 'nova-ipmeta.cjs');
  copyBundle(bundle);
  const cache = spawnSync(process.execPath, [bundle, '--write-code-cache'], { encoding: 'utf8' });
  if (cache.status !== 0) throw new Error(`--write-code-cache: ${cache.stderr}`);
  writeFileSync(join(bin, 'nova-ipmeta'), `#!/bin/sh\nexec ${process.execPath} ${bundle} "$@"\n`);
  chmodSync(join(bin, 'nova-ipmeta'), 0o755);
  const config = join(work, 'nova-ipmeta.conf');
  writeFileSync(
    config,
    `[DEFAULT]\nstate_dir = ${state}\n[libvirt]\nlive_xml_dir = ${d.liveXmlDir}\npersistent_xml_dir = ${d.persistentXmlDir}\n[neutron]\nauth_type = none\nendpoint_override = ${neutron.url}\n`,
  );
  env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, LIBVIRT_DEFAULT_URI: d.uri, NOVA_IPMETA_CONFIG: config, LC_ALL: 'C.UTF-8', HOME: work };
  paths = [
    ['/run/libvirt/qemu/', `${d.liveXmlDir}/`],
    ['/etc/libvirt/qemu/', `${d.persistentXmlDir}/`],
    ['/var/lib/nova-ipmeta/', `${state}/`],
    ['/var/lib/prometheus/node-exporter/', `${textfiles}/`],
  ];
  // The files the guide's commands name, in their working directory.
  writeFileSync(join(work, 'db-1.json'), readFileSync(fixturePath('network_info/two-ports.json')));
  writeFileSync(join(work, 'web-1.json'), networkInfo([WEB_VIF]));

  const webNova = novaElement('pre-wallaby.xml').replace(/<nova:ports>[\s\S]*?<\/nova:ports>\s*/, '');
  for (const [g, metadata, interfaces] of [
    [DB, novaElement('wallaby-nova-ports.xml'), interfacesOf('wallaby-nova-ports.xml')],
    [WEB, webNova, [{ mac: WEB_VIF.mac, dev: WEB_VIF.dev }]],
  ] as const) {
    const file = join(work, `${g.name}.xml`);
    writeFileSync(file, guestXml({ name: g.name, uuid: g.uuid, interfaces: [...interfaces], metadata }));
    await d.virshOk('define', file);
    await d.virshOk('start', g.name);
    rmSync(file);
  }
});

/** The guide's instances' ports in Neutron, with the fixtures' MACs and addresses (Neutron picks the port ids). */
async function neutronPorts(): Promise<void> {
  const create = async (kind: string, body: Record<string, unknown>) => ((await neutron.api('POST', `/v2.0/${kind}s`, { [kind]: { project_id: PROJECT, ...body } }))[kind] as { id: string }).id;
  const net = await create('network', { name: 'private' });
  const v4 = await create('subnet', { network_id: net, cidr: '192.168.1.0/24', ip_version: 4 });
  const v6 = await create('subnet', { network_id: net, cidr: 'fdf8:f53b:82e4::/64', ip_version: 6, ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' });
  const storage = await create('network', { name: 'storage' });
  const s4 = await create('subnet', { network_id: storage, cidr: '10.0.0.0/24', ip_version: 4 });
  const port = (uuid: string, network: string, mac: string, fixed: [string, string][]) =>
    create('port', { network_id: network, device_id: uuid, device_owner: 'compute:nova', mac_address: mac, fixed_ips: fixed.map(([subnet_id, ip_address]) => ({ subnet_id, ip_address })) });
  await port(DB.uuid, net, 'fa:16:3e:5b:1c:09', [[v4, '192.168.1.1'], [v6, 'fdf8:f53b:82e4::52']]);
  await port(DB.uuid, storage, 'fa:16:3e:c4:7e:21', [[s4, '10.0.0.1']]);
  await port(WEB.uuid, net, WEB_VIF.mac, [[v4, '192.168.1.7'], [v6, 'fdf8:f53b:82e4::7']]);
}

t.after(async () => {
  neutron.destroy();
  await d.stop();
  sandbox.down();
  rmSync(work, { recursive: true, force: true });
});

function hostPaths(command: string): string {
  let out = command;
  for (const [from, to] of paths) out = out.split(from).join(to);
  return out;
}

function bash(argv: readonly string[], command: string, cwd: string, extraEnv: Record<string, string>): Ran {
  const full = [...argv, 'bash', '-o', 'pipefail', '-c', `exec 2>&1\n${command}`];
  const r = spawnSync(full[0] ?? 'bash', full.slice(1), {
    cwd,
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, output: r.stdout + (r.error ? String(r.error) : '') };
}


/** One sandbox for every test-install block, brought up on first use. */
const sandbox = {
  dir: undefined as string | undefined,
  exec(command: string): Ran {
    if (this.dir === undefined) {
      this.dir = join(work, 'sandbox');
      const up = spawnSync('bash', [SANDBOX_SH, 'up', this.dir], { encoding: 'utf8' });
      assert.is(up.status, 0, up.stderr);
    }
    return bash(['bash', SANDBOX_SH, 'exec', this.dir], command, REPO, { LC_ALL: 'C.UTF-8', MANPAGER: 'cat', MANWIDTH: '80', PAGER: 'cat' });
  },
  down(): void {
    if (this.dir !== undefined) spawnSync('bash', [SANDBOX_SH, 'down', this.dir], { stdio: 'ignore', timeout: 60_000 });
    this.dir = undefined;
  },
};

/** The YAML without its `annotations:` mappings (each up to the next line indented no deeper). */
function withoutAnnotations(yaml: string): string {
  const out: string[] = [];
  let skipIndent: number | undefined;
  for (const line of yaml.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (skipIndent !== undefined && (line.trim() === '' || indent > skipIndent)) continue;
    skipIndent = undefined;
    if (line.trimStart().startsWith('annotations:')) {
      skipIndent = indent;
      continue;
    }
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

t('every sh block says how it is tested, and few are not run', () => {
  const sh = blocks.filter((b) => /^(sh|bash|shell|console)\b/.test(b.info));
  for (const b of sh) assert.ok(['sh test', 'sh test-install', 'sh test-prometheus', 'sh not-run'].includes(b.info), `guide line ${b.line}: \`\`\`${b.info} must be "sh test", "sh test-install", "sh test-prometheus" or "sh not-run"`);
  assert.ok(sh.filter((b) => b.info === 'sh test').length >= 8, 'the guide runs its examples');
  const notRun = sh.filter((b) => b.info === 'sh not-run').length;
  assert.ok(notRun <= MAX_NOT_RUN, `${notRun} blocks not run (at most ${MAX_NOT_RUN})`);
});

t("every example of the guide, in the guide's order", () => {
  let ran = 0;
  for (const b of blocks) {
    if (b.info === 'sh test') {
      for (const s of steps(b)) {
        checkStep(s, bash([], hostPaths(s.command), work, env));
        ran++;
      }
    } else if (b.info === 'sh test-install') {
      for (const s of steps(b)) {
        checkStep(s, sandbox.exec(s.command.replace(/^sudo /, '')));
        ran++;
      }
    }
  }
  assert.ok(ran >= 20, `only ${ran} commands ran`);
});

t('the alert rules pass promtool and fire when they should', () => {
  const rules = blocks.filter((b) => b.info === 'yaml test-rules');
  assert.is(rules.length, 1, 'one block of alerting rules');
  const tool = prometheusBinaries().promtool;
  const file = join(work, 'nova-ipmeta.rules.yml');
  writeFileSync(file, `${rules[0]?.body ?? ''}\n`);
  const checked = spawnSync(tool, ['check', 'rules', file], { encoding: 'utf8' });
  assert.is(checked.status, 0, checked.stdout + checked.stderr);
  // The metrics the guide's own reconcile --textfile wrote pass promtool too.
  const prom = readFileSync(join(work, 'node-exporter', 'nova-ipmeta.prom'), 'utf8');
  const lint = spawnSync(tool, ['check', 'metrics'], { input: prom, encoding: 'utf8' });
  assert.is(lint.status, 0, lint.stdout + lint.stderr);
  // promtool compares annotations too: the unit test runs the rules without theirs (their templates
  // were checked above).
  const bare = join(work, 'nova-ipmeta.bare.rules.yml');
  writeFileSync(bare, withoutAnnotations(rules[0]?.body ?? ''));
  // Series as reconcile writes them, every 5 minutes. cn1: routine repairs at 5 and 10 minutes,
  // drift that came back at 10; its last success at 20 minutes, its sync's at 15. cn2: neither its
  // reconcile nor its sync ever succeeded. Then a Prometheus where no host reports anything.
  const host = (n: number) => `instance="cn${n}:9100",job="node"`;
  const alerts = (...hosts: number[]) => hosts.map((n) => `          - exp_labels: { severity: warning, instance: 'cn${n}:9100', job: node }`).join('\n');
  const tests = `rule_files: [${bare}]
evaluation_interval: 1m
tests:
  - interval: 5m
    input_series:
      - series: 'nova_ipmeta_reconcile_domains{${host(1)},outcome="repaired"}'
        values: '0 1 1 0 0 0 0 0 0 0 0 0 0 0'
      - series: 'nova_ipmeta_reconcile_domains_drifted_again{${host(1)}}'
        values: '0 0 1 0 0 0 0 0 0 0 0 0 0 0'
      - series: 'nova_ipmeta_reconcile_success{${host(1)}}'
        values: '1 1 1 1 1 0 0 0 0 0 0 0 0 0'
      - series: 'nova_ipmeta_reconcile_last_success_timestamp_seconds{${host(1)}}'
        values: '0 300 600 900 1200 1200 1200 1200 1200 1200 1200 1200 1200 1200'
      - series: 'nova_ipmeta_reconcile_last_run_timestamp_seconds{${host(1)}}'
        values: '0+300x13'
      - series: 'nova_ipmeta_sync_success{${host(1)}}'
        values: '1 1 1 1 0 0 0 0 0 0 0 0 0 0'
      - series: 'nova_ipmeta_sync_last_success_timestamp_seconds{${host(1)}}'
        values: '0 300 600 900 900 900 900 900 900 900 900 900 900 900'
      - series: 'nova_ipmeta_reconcile_success{${host(2)}}'
        values: '0x13'
      - series: 'nova_ipmeta_reconcile_last_run_timestamp_seconds{${host(2)}}'
        values: '0+300x13'
      - series: 'nova_ipmeta_sync_success{${host(2)}}'
        values: '0x13'
    alert_rule_test:
      - eval_time: 5m
        alertname: NovaIpmetaDriftPersists
        exp_alerts: []
      - eval_time: 10m
        alertname: NovaIpmetaDriftPersists
        exp_alerts:
${alerts(1)}
      - eval_time: 15m
        alertname: NovaIpmetaDriftPersists
        exp_alerts: []
      - eval_time: 25m
        alertname: NovaIpmetaReconcileNotSucceeding
        exp_alerts: []
      - eval_time: 35m
        alertname: NovaIpmetaReconcileNotSucceeding
        exp_alerts:
${alerts(2)}
      - eval_time: 55m
        alertname: NovaIpmetaReconcileNotSucceeding
        exp_alerts:
${alerts(1, 2)}
      - eval_time: 25m
        alertname: NovaIpmetaSyncNotSucceeding
        exp_alerts: []
      - eval_time: 50m
        alertname: NovaIpmetaSyncNotSucceeding
        exp_alerts:
${alerts(1, 2)}
      - eval_time: 60m
        alertname: NovaIpmetaNoRun
        exp_alerts: []
  - interval: 5m
    input_series:
      - series: 'up{${host(1)}}'
        values: '1x13'
    alert_rule_test:
      - eval_time: 10m
        alertname: NovaIpmetaNoRun
        exp_alerts: []
      - eval_time: 20m
        alertname: NovaIpmetaNoRun
        exp_alerts:
          - exp_labels: { severity: warning }
      - eval_time: 20m
        alertname: NovaIpmetaReconcileNotSucceeding
        exp_alerts: []
`;
  const testFile = join(work, 'rules.test.yml');
  writeFileSync(testFile, tests);
  const unit = spawnSync(tool, ['test', 'rules', testFile], { encoding: 'utf8' });
  assert.is(unit.status, 0, unit.stdout + unit.stderr);
});

t.run();
