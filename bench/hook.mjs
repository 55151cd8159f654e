// What the qemu hook costs inside libvirt's start path (docs/design.md, "The hook"). libvirt runs it synchronously
// up to five times per guest start/stop cycle, so:
//  1. an ignored operation (prepare) and `started` (which only spawns a detached reconcile; a stub
//     stands in for reconcile, so this measures the hook) through hooks/qemu, against a no-op
//     shell hook (goal: under 3x) and against running the Node bundle for the same call (beside a
//     `node -e 0` of the same group: Node starts slower among short shell processes);
//  2. the migrate filter, which must run Node, through hooks/qemu and the bundle directly,
//     against `node -e 0` (goal: at most 1.3x), on a domain it rewrites and on one already in
//     sync, with the code cache the installer makes (`--write-code-cache`) and without it; and,
//     to show where hooks/qemu's own time goes, the installed command alone and the least shell
//     that bounds its time (sh, timeout, the output captured, then printed), and that same shell
//     around a bare Node requiring node:fs (the floor of any bounded shell hook whose Node program
//     reads a file: hooks/qemu's ratio to it is printed too). On each Node in
//     turn: the machine's own, and Node 18.20.4, as Debian 12 and Ubuntu 24.04 ship it (the
//     Node a package's hook runs on there), beside `node -e 0` and a bare `require('node:fs')`
//     of that Node (what any program that reads a file pays first: more on Node 18).
// Each with a realistic nova domain XML on stdin, all interleaved (bench/lib.mjs).
//
// Usage: npm run build && node bench/hook.mjs [--runs N] [--node PATH]...   (default: both)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { copyBundle, machineLine, measure, report } from './lib.mjs';
import { node18, systemNode } from '../scripts/system-node.mjs';

const GOAL = 1.3;
const FS_FLOOR = "node -e \"require('node:fs')\"";
const BOUNDED_FLOOR = "sh + timeout + node -e \"require('node:fs')\"";
const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '30' }, node: { type: 'string', multiple: true } } });
const RUNS = Number(opts.runs);
const repo = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(repo, 'dist/nova-ipmeta.cjs');
if (!existsSync(BUNDLE)) throw new Error('run `npm run build` first');
const versionOf = (node) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
const nodes = opts.node ?? [systemNode, node18];
for (const n of nodes) if (!/^v\d+\./.test(versionOf(n))) throw new Error(`--node ${n}: not a Node`);
// The set-up's Node, and the one Node the trigger operations' group measures the bundle on.
const node = nodes[0];

const work = mkdtempSync(join(tmpdir(), 'bench-hook-'));
const state = join(work, 'state');
mkdirSync(state, { mode: 0o700 });
const config = join(work, 'nova-ipmeta.conf');
writeFileSync(config, `[DEFAULT]\nstate_dir = ${state}\n`);

const q = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
function script(name, body) {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const hookText = readFileSync(join(repo, 'hooks/qemu'), 'utf8');
/** hooks/qemu with its variable lines rewritten, as install.sh does. */
function installHook(name, novaIpmeta) {
  const text = hookText
    .replace(/^NOVA_IPMETA=.*$/m, `NOVA_IPMETA=${q(novaIpmeta)}`)
    .replace(/^NOVA_IPMETA_CONFIG=.*$/m, `NOVA_IPMETA_CONFIG=${q(config)}`)
    .replace(/^NOVA_IPMETA_LOG=.*$/m, `NOVA_IPMETA_LOG=${q(join(state, 'hook.log'))}`);
  const path = join(work, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

// A nova domain as libvirt hands it to the hook: the pre-Wallaby fixture (no ports yet) with the
// devices a real guest has, about 6 KB.
const xml = readFileSync(join(repo, 'test/fixtures/domains/pre-wallaby.xml'), 'utf8')
  .replace("<vcpu placement='static'>1</vcpu>", `<currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <cputune><shares>1024</shares></cputune>
  <resource><partition>/machine</partition></resource>`)
  .replace('</features>', `</features>
  <cpu mode='host-model' check='partial'><topology sockets='1' dies='1' cores='1' threads='1'/></cpu>
  <clock offset='utc'><timer name='pit' tickpolicy='delay'/><timer name='rtc' tickpolicy='catchup'/><timer name='hpet' present='no'/></clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>`)
  .replace('</devices>', `  <controller type='usb' index='0' model='piix3-uhci'><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/></controller>
    <controller type='pci' index='0' model='pci-root'/>
    <console type='pty'><log file='/var/lib/nova/instances/9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a/console.log' append='off'/><target type='serial' port='0'/></console>
    <input type='tablet' bus='usb'><address type='usb' bus='0' port='1'/></input>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics>
    <audio id='1' type='none'/>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/><address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>
    <memballoon model='virtio'><stats period='10'/><address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></memballoon>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></rng>
  </devices>
  <seclabel type='dynamic' model='apparmor' relabel='yes'/>`);

const uuid = /<uuid>([^<]+)<\/uuid>/.exec(xml)[1];
const cacheFile = join(work, 'network_info.json');
writeFileSync(cacheFile, readFileSync(join(repo, 'test/fixtures/network_info/two-ports.json')));
const put = spawnSync(node, [BUNDLE, 'cache', 'put', uuid, cacheFile, '--state-dir', state], { encoding: 'utf8' });
if (put.status !== 0) throw new Error(`cache put: ${put.stderr}`);

// The bundle as installed (install.sh) for `node`: a copy whose first line names that Node, with
// the code cache made by it beside it, and the command, a link to it; or the same without the cache.
function installBundle(dir, node, { cached }) {
  mkdirSync(join(work, dir));
  const bundle = join(work, dir, 'nova-ipmeta.cjs');
  copyBundle(BUNDLE, bundle);
  const text = readFileSync(bundle, 'latin1');
  writeFileSync(bundle, `#!${node}\n${text.slice(text.indexOf('\n') + 1)}`, 'latin1');
  symlinkSync(bundle, join(work, dir, 'nova-ipmeta'));
  if (cached) {
    const made = spawnSync(node, [bundle, '--write-code-cache'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`${node} --write-code-cache: ${made.stderr}`);
  }
  return { bundle, command: join(work, dir, 'nova-ipmeta') };
}
const stubReconcile = script('stub-nova-ipmeta', 'exit 0');
// The bound hooks/qemu itself puts on Node, read from it, so the two cannot drift apart.
const killAfter = /timeout -k (\d+) "\$NOVA_IPMETA_FILTER_TIMEOUT"/.exec(hookText)?.[1];
const limit = /^NOVA_IPMETA_FILTER_TIMEOUT=(\d+)$/m.exec(hookText)?.[1];
if (!killAfter || !limit) throw new Error('hooks/qemu: no `timeout -k N "$NOVA_IPMETA_FILTER_TIMEOUT"` or no NOVA_IPMETA_FILTER_TIMEOUT=N line (update bench/hook.mjs)');
const hookWithStub = installHook('hook-stub', stubReconcile);
const noop = script('noop-hook', 'exit 0');
const name = 'instance-0000002a';
const args = (op) => [name, op, 'begin', '-'];
const filterEnv = { NOVA_IPMETA_CONFIG: config };

console.log(`hook benchmark: ${RUNS} interleaved runs each, ${Buffer.byteLength(xml)} bytes of domain XML on stdin`);
console.log(machineLine());
const installed = nodes.map((n, i) => installBundle(`installed-${i}`, n, { cached: true }));
{
  const { bundle } = installed[0];
  const trigger = measure(
    {
      'no-op shell hook (exit 0)': { argv: [noop, ...args('prepare')], input: xml },
      'hooks/qemu prepare (ignored)': { argv: [hookWithStub, ...args('prepare')], input: xml },
      'hooks/qemu started (detached stub reconcile)': { argv: [hookWithStub, ...args('started')], input: xml },
      // What Node costs in this group: the bundle's row above is read against it.
      'node -e 0': { argv: [node, '-e', '0'] },
      'node bundle: hook prepare': { argv: [node, bundle, 'hook', ...args('prepare')], input: xml, env: filterEnv },
    },
    { runs: RUNS },
  );
  report(`ignored and trigger operations (goal: hooks/qemu under 3x the no-op; Node ${versionOf(node)})`, trigger, 'no-op shell hook (exit 0)');
}

for (const [i, node] of nodes.entries()) {
  const { bundle: cachedBundle, command } = installed[i];
  const { bundle: uncachedBundle, command: uncachedCommand } = installBundle(`no-cache-${i}`, node, { cached: false });
  const bounded = (name, argv) => script(name, `out=$(timeout -k ${killAfter} ${limit} ${argv})\nprintf '%s\\n' "$out"\nexit 0`);
  const boundedFilter = bounded(`bounded-filter-${i}`, `${q(command)} hook "$@"`);
  // The same shell around a Node that only requires node:fs: what any bounded shell hook whose
  // Node program reads a file costs on this Node before that program does anything.
  const boundedFloor = bounded(`bounded-floor-${i}`, `${q(node)} -e ${q("require('node:fs')")}`);
  const hook = installHook(`hook-${i}`, command);
  const uncachedHook = installHook(`hook-no-cache-${i}`, uncachedCommand);

  // The migrate filter must really rewrite, or this would measure the no-change path.
  const check = spawnSync(hook, args('migrate'), { input: xml, encoding: 'utf8' });
  if (!check.stdout.includes('<nova:ports>')) throw new Error(`hooks/qemu migrate did not rewrite: ${check.stderr}${readFileSync(join(state, 'hook.log'), 'utf8')}`);
  // What it printed is in sync: the usual incoming migration, when the source host runs nova-ipmeta.
  const synced = check.stdout;
  if (spawnSync(hook, args('migrate'), { input: synced, encoding: 'utf8' }).stdout !== '') throw new Error('hooks/qemu migrate rewrote a domain in sync');

  const filter = measure(
    {
      'node -e 0': { argv: [node, '-e', '0'] },
      // What any program that reads a file pays first (on Node 18, `node:fs`'s ESM facade loads
      // Node's streams: docs/design.md, "Cost").
      [FS_FLOOR]: { argv: [node, '-e', "require('node:fs')"] },
      'hooks/qemu migrate (rewrites)': { argv: [hook, ...args('migrate')], input: xml },
      'node bundle: hook migrate (rewrites)': { argv: [node, cachedBundle, 'hook', ...args('migrate')], input: xml, env: filterEnv },
      'hooks/qemu migrate (in sync)': { argv: [hook, ...args('migrate')], input: synced },
      'node bundle: hook migrate (in sync)': { argv: [node, cachedBundle, 'hook', ...args('migrate')], input: synced, env: filterEnv },
      // What hooks/qemu adds, in parts: the installed command (a link the kernel starts Node on), then
      // the least a shell hook bounding Node's time does (sh, timeout, the output captured and printed).
      'the installed command: hook migrate': { argv: [command, 'hook', ...args('migrate')], input: xml, env: filterEnv },
      'sh + timeout + the installed command': { argv: [boundedFilter, ...args('migrate')], input: xml, env: filterEnv },
      [BOUNDED_FLOOR]: { argv: [boundedFloor], input: xml },
      'hooks/qemu migrate, no code cache': { argv: [uncachedHook, ...args('migrate')], input: xml },
      'node bundle: hook migrate, no code cache': { argv: [node, uncachedBundle, 'hook', ...args('migrate')], input: xml, env: filterEnv },
    },
    { runs: RUNS },
  );
  report(`the migrate filter on Node ${versionOf(node)} (goal: at most 1.3x node -e 0)`, filter, 'node -e 0');
  const base = filter['node -e 0'].median;
  const ratio = (row) => filter[row].median / base;
  const goal = (row) => `${row} ${ratio(row).toFixed(2)}x: ${ratio(row) <= GOAL ? 'met' : 'NOT met'}`;
  console.log(`  goal <= ${GOAL}x: ${['hooks/qemu migrate (in sync)', 'hooks/qemu migrate (rewrites)'].map(goal).join('; ')}`);
  const overFloor = (row) => `${row} ${(filter[row].median / filter[BOUNDED_FLOOR].median).toFixed(2)}x`;
  console.log(`  against ${BOUNDED_FLOOR}: ${['hooks/qemu migrate (in sync)', 'hooks/qemu migrate (rewrites)'].map(overFloor).join('; ')}`);
}

rmSync(work, { recursive: true, force: true });
