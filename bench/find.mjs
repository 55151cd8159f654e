// `nova-ipmeta find ADDRESS` (and a MAC, a domain name) on a host with 1000 instances, against `node -e 0` (the floor of any
// Node command) and against what an operator script does without the tool: one `virsh dumpxml`
// per domain. The 1000 domains are defined on a private libvirt daemon (test/support/libvirtd.sh),
// so the persistent files are the ones libvirt wrote; the live files are libvirt's own status file
// of a guest started once, with each domain put inside it (starting 1000 guests needs 50 GB).
// find reads through its index (src/adapters/find-index.ts): the rows give it whole (most finds),
// just after a guest changed, just after every guest changed (a host starting its guests), the
// first find (the index made), and with no state directory.
//
// Usage: npm run build && node bench/find.mjs [--domains N] [--runs N] [--no-virsh] [--bundle FILE]
// (--bundle: measure another build of the CLI, e.g. one without a command, to see what it costs)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childUsage, cleanUpWhenGone, copyBundle, machineLine, measure, measuredEnv, report, standInDaemon } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    domains: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '20' },
    'no-virsh': { type: 'boolean', default: false },
    bundle: { type: 'string' },
  },
});
const N = Number(opts.domains);
const RUNS = Number(opts.runs);
const repo = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = opts.bundle ?? join(repo, 'dist/nova-ipmeta.cjs');
const HARNESS = join(repo, 'test/support/libvirtd.sh');
if (!existsSync(BUNDLE)) throw new Error('run `npm run build` first');

const work = mkdtempSync(join(tmpdir(), 'bench-find-'));
const root = join(work, 'libvirt');
const xmlDir = join(work, 'defs');
const liveDir = join(work, 'live');
const emptyDir = join(work, 'empty');
const config = join(work, 'nova-ipmeta.conf');
for (const d of [root, xmlDir, liveDir, emptyDir]) mkdirSync(d);
writeFileSync(config, '');

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r;
}

/** Mean CPU time of `argv` over `runs` runs, from the kernel's accounting of waited-for children. */
function cpuMs({ argv, before }, runs) {
  let ticks = 0;
  for (let i = 0; i < runs; i++) {
    before?.();
    const t0 = childUsage().cpuTicks;
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: measuredEnv() });
    ticks += childUsage().cpuTicks - t0;
  }
  return (ticks * 10) / runs;
}

const hex = (i, width) => i.toString(16).padStart(width, '0');
/** Domain i: nova's XML (the wallaby fixture) with its own name, UUIDs, MACs and addresses. */
function domainXml(i) {
  const fixture = readFileSync(join(repo, 'test/fixtures/domains/wallaby-nova-ports.xml'), 'utf8');
  const [a, b] = [(i >> 8) & 255, i & 255];
  return fixture
    .replace("<domain type='kvm'>", "<domain type='qemu'>") // no /dev/kvm needed to define it
    .replace('instance-0000002b', `instance-${hex(i, 8)}`)
    .replaceAll('0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5', `0c1d2e3f-4a5b-4c6d-8e7f-${hex(i, 12)}`)
    .replace('567a4527-b0e4-4d0a-bcc2-71fda37897f7', `567a4527-b0e4-4d0a-bcc2-${hex(i, 12)}`)
    .replace('tap567a4527-b0', `tap${hex(i, 8)}-b0`)
    .replace('tapa3ca97e2-0c', `tap${hex(i, 8)}-0c`)
    .replace('FA:16:3E:5B:1C:09', `fa:16:3e:00:${hex(a, 2)}:${hex(b, 2)}`)
    .replace('fa:16:3e:c4:7e:21', `fa:16:3e:01:${hex(a, 2)}:${hex(b, 2)}`)
    .replace('192.168.1.1', `10.${a}.${b}.5`)
    .replace('fdf8:f53b:82e4::52', `fdf8:f53b:82e4::${hex(i, 1)}:5`)
    .replace('</nova:port>', `  <nova:ip type="floating" address="172.16.${a}.${b}" ipVersion="4"/>\n        </nova:port>`);
}

let uri;
let ok = false;
let stopStandIn;
try {
  sh(['bash', HARNESS, 'deps']);
  await cleanUpWhenGone(['bash', HARNESS, 'stop', root], root);
  uri = sh(['bash', HARNESS, 'start', root]).stdout.trim();
  const virsh = (...args) => sh(['virsh', '-q', '-c', uri, ...args]).stdout;

  // libvirt's status file for a running guest, to wrap the domains in as /run/libvirt/qemu does.
  const probe = join(work, 'probe.xml');
  writeFileSync(
    probe,
    `<domain type='qemu'><name>probe</name><memory unit='MiB'>48</memory><os><type arch='x86_64'>hvm</type></os>` +
      `<features><acpi/></features><devices><interface type='ethernet'><mac address='fa:16:3e:ff:ff:ff'/>` +
      `<target dev='tapffffffff-ff' managed='yes'/><rom enabled='no'/></interface></devices></domain>`,
  );
  virsh('define', probe);
  virsh('start', 'probe');
  const status = readFileSync(join(root, 'run/qemu/probe.xml'), 'utf8');
  virsh('destroy', 'probe');
  virsh('undefine', 'probe');
  const open = status.indexOf('  <domain ');
  const [head, tail] = [status.slice(0, open), status.slice(status.indexOf('</domain>', open) + '</domain>'.length)];

  // Define them all through one virsh reading commands on stdin.
  const t0 = Date.now();
  const script = [];
  for (let i = 0; i < N; i++) {
    const file = join(xmlDir, `${i}.xml`);
    writeFileSync(file, domainXml(i));
    script.push(`define ${file}`);
  }
  const defined = sh(['virsh', '-q', '-c', uri], `${script.join('\n')}\n`);
  if (defined.stderr.trim()) throw new Error(`define: ${defined.stderr.slice(0, 500)}`);
  const persistentDir = join(root, 'etc/qemu');
  const files = readdirSync(persistentDir).filter((f) => f.endsWith('.xml'));
  if (files.length !== N) throw new Error(`${files.length} persistent files, expected ${N}`);
  for (const f of files) {
    const body = readFileSync(join(persistentDir, f), 'utf8');
    const domain = body.slice(body.indexOf('<domain')).trimEnd().replace("<domain type='qemu'>", "<domain type='qemu' id='7'>");
    writeFileSync(join(liveDir, f), `${head}${domain.replace(/^/gm, '  ').trimStart()}${tail}`);
  }
  const bytes = (dir) => readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
  console.log(
    `${N} domains defined in ${((Date.now() - t0) / 1000).toFixed(1)} s; persistent files ${(bytes(persistentDir) / N / 1024).toFixed(1)} KiB, live files ${(bytes(liveDir) / N / 1024).toFixed(1)} KiB each`,
  );

  // The made-up live directories must count as a running daemon's own, or find would rightly ask
  // libvirt for what they lack (docs/design.md, "libvirt's own XML files"): a process named
  // libvirtd in this mount namespace (a copy of sleep), named by their driver.pid, stands in for
  // a host's daemon.
  // A copy of the live directory for the find that comes after a change (its own, so that its
  // changes do not reach the others' indexes).
  const changingDir = join(work, 'changing');
  // And one whose every file changes before each run: a host starting its guests.
  const startingDir = join(work, 'starting');
  for (const dir of [changingDir, startingDir]) {
    mkdirSync(dir);
    for (const f of readdirSync(liveDir)) copyFileSync(join(liveDir, f), join(dir, f));
  }
  stopStandIn = await standInDaemon(work, [liveDir, emptyDir, changingDir, startingDir]);

  const last = N - 1;
  const v4 = `10.${(last >> 8) & 255}.${last & 255}.5`;
  const v6 = `FDF8:F53B:82E4:0:0:0:${hex(last, 1).toUpperCase()}:0005`;
  // The bundle as installed, with the code cache made for this Node beside it; and without one.
  const cachedBundle = join(work, 'nova-ipmeta.cjs');
  copyBundle(BUNDLE, cachedBundle);
  sh([process.execPath, cachedBundle, '--write-code-cache']);
  const uncachedBundle = join(emptyDir, '..', 'nova-ipmeta-no-cache.cjs');
  copyBundle(BUNDLE, uncachedBundle);
  const mac = `FA:16:3E:00:${hex((last >> 8) & 255, 2)}:${hex(last & 255, 2)}`.toUpperCase();
  // find's index (src/adapters/find-index.ts) is kept in the state directory, for one pair of
  // directories and one build: a state directory for each find below that has its own pair or
  // build, or that changes its index; and one that does not exist, for a find with no index.
  const state = (name) => {
    const dir = join(work, `state-${name}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };
  const states = { running: state('running'), stopped: state('stopped'), changing: state('changing'), starting: state('starting'), first: state('first'), uncached: state('uncached') };
  const noState = join(work, 'no-state');
  const stateOf = new Map([
    [liveDir, states.running],
    [emptyDir, states.stopped],
    [changingDir, states.changing],
    [startingDir, states.starting],
  ]);
  const cli = (live, ...args) => ({
    argv: [process.execPath, cachedBundle, ...args, '--live-xml-dir', live, '--persistent-xml-dir', persistentDir, '--config', config, '--state-dir', stateOf.get(live)],
  });
  /** The same find with another state directory (the last argument), or another bundle. */
  const stateDir = (c, dir) => ({ argv: [...c.argv.slice(0, -1), dir] });
  const uncached = stateDir({ argv: [process.execPath, uncachedBundle, ...cli(liveDir, 'find', v4).argv.slice(2)] }, states.uncached);
  // Files are indexed once they have stood still for two seconds; then a find over each pair
  // indexes every file, and the index must say so, or the rows below would measure another path.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const primed = [
    [cli(liveDir, 'find', v4), states.running],
    [cli(emptyDir, 'find', v4), states.stopped],
    [cli(changingDir, 'find', v4), states.changing],
    [uncached, states.uncached],
  ];
  for (const [c, dir] of primed) {
    const r = spawnSync(c.argv[0], c.argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout.includes(`instance-${hex(last, 8)}`)) throw new Error(`${c.argv.join(' ')}: ${r.status} ${r.stdout} ${r.stderr}`);
    const header = JSON.parse(readFileSync(join(dir, 'find-index'), 'utf8').split('\n')[0]);
    if (!header.dirs) throw new Error(`the index in ${dir} is not whole`);
  }
  for (const what of [v6, mac]) {
    const r = spawnSync(cli(liveDir, 'find', what).argv[0], cli(liveDir, 'find', what).argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout.includes(`instance-${hex(last, 8)}`)) throw new Error(`find ${what}: ${r.status} ${r.stdout} ${r.stderr}`);
  }
  // A guest changed a moment ago, as libvirt changes one (a file renamed over its old self): the
  // directory changed, so find lists it and looks at every file, and reads only the one changed.
  const changing = readdirSync(changingDir).filter((f) => f.endsWith('.xml'));
  let generation = 0;
  const changeOne = () => {
    const name = join(changingDir, changing[generation++ % changing.length]);
    copyFileSync(name, `${name}.new`);
    renameSync(`${name}.new`, name);
  };
  const starting = readdirSync(startingDir).filter((f) => f.endsWith('.xml'));
  // Each file's times set to now (as a rewrite would move them) and the directory changed: the
  // path a find takes then, without writing 12 MB per run for the kernel to flush during others'.
  const changeAll = () => {
    const now = new Date();
    for (const f of starting) utimesSync(join(startingDir, f), now, now);
    writeFileSync(join(startingDir, 'a-guest-started.tmp'), '');
    rmSync(join(startingDir, 'a-guest-started.tmp'));
  };
  // The first find after an install or a host's start: no index yet, every file read and parsed.
  const forget = () => rmSync(join(states.first, 'find-index'), { force: true });

  // What any find over these files pays before its own work, measured in the same run: Node
  // listing both directories and reading the files a find over running guests reads (the live
  // ones: a running guest's persistent file is passed over by name), each opened, read and closed
  // as find does, and nothing else; and the program started without reading any (`--version`).
  const readFiles = [
    'const fs = require("fs"); const b = Buffer.allocUnsafe(256 * 1024);',
    'const [read, listed] = process.argv.slice(1); fs.readdirSync(listed, { withFileTypes: true });',
    'for (const e of fs.readdirSync(read, { withFileTypes: true })) {',
    '  if (!e.name.endsWith(".xml")) continue;',
    '  const fd = fs.openSync(`${read}/${e.name}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); fs.readSync(fd, b, 0, b.length, null); fs.closeSync(fd);',
    '}',
  ].join('\n');
  const floors = {
    [`node listing both, reading the ${N} live files`]: { argv: [process.execPath, '-e', readFiles, liveDir, persistentDir] },
    'the program started, no file read (--version)': { argv: [process.execPath, cachedBundle, '--version'] },
  };
  const contenders = {
    'node -e 0': { argv: [process.execPath, '-e', '0'] },
    ...floors,
    [`find IPv4, ${N} running (2 x ${N} files)`]: cli(liveDir, 'find', v4),
    [`find IPv6 long-hand, ${N} running`]: cli(liveDir, 'find', v6),
    [`find IPv4, ${N} stopped (${N} files)`]: cli(emptyDir, 'find', v4),
    [`find IPv4, ${N} running, no index`]: stateDir(cli(liveDir, 'find', v4), noState),
    [`find IPv4, ${N} running, a file changed a moment ago`]: { ...cli(changingDir, 'find', v4), before: changeOne },
    [`find IPv4, ${N} running, the first (the index made)`]: { ...stateDir(cli(liveDir, 'find', v4), states.first), before: forget },
    [`find IPv4, ${N} running, every file changed a moment ago`]: { ...cli(startingDir, 'find', v4), before: changeAll },
    [`find IPv4, ${N} running, no code cache`]: uncached,
    // The other terms find takes, with their own pre-filters: a MAC (matched in either case), a domain name.
    [`find MAC, ${N} running`]: cli(liveDir, 'find', mac),
    [`find domain name, ${N} running`]: cli(liveDir, 'find', `instance-${hex(last, 8)}`),
  };
  console.log(machineLine());
  const results = measure(contenders, { runs: RUNS });
  report(`find ADDRESS over ${N} domains (${RUNS} interleaved runs, node ${process.version}): wall time`, results, 'node -e 0');
  // On a shared 2-core machine the wall time moves with everyone else's load; the CPU time the
  // kernel accounts to each command moves much less.
  const cpu = Object.fromEntries(Object.entries(contenders).map(([name, c]) => [name, { median: cpuMs(c, RUNS) }]));
  report(`the same: mean CPU time (user + system) per run, ${RUNS} runs each`, cpu, 'node -e 0');

  const listed = measure({ [`list --json, ${N} running`]: cli(liveDir, 'list', '--json') }, { runs: 3, warmup: 1 });
  report('list (parses every live file: for reference)', listed, `list --json, ${N} running`);

  if (!opts['no-virsh']) {
    const uuids = Array.from({ length: N }, (_, i) => `0c1d2e3f-4a5b-4c6d-8e7f-${hex(i, 12)}`);
    // The naive operator script: one virsh process per domain, then look for the address.
    const t1 = process.hrtime.bigint();
    let hits = 0;
    for (const u of uuids) if (virsh('dumpxml', u).includes(`"${v4}"`)) hits++;
    const naive = Number(process.hrtime.bigint() - t1) / 1e6;
    // The same through one virsh session (what find falls back to).
    const t2 = process.hrtime.bigint();
    const session = sh(['virsh', '-q', '-c', uri], `${uuids.map((u) => `dumpxml ${u}`).join('\n')}\n`);
    const oneSession = Number(process.hrtime.bigint() - t2) / 1e6;
    if (hits !== 1 || !session.stdout.includes(`"${v4}"`)) throw new Error('virsh did not find the address');
    const find = results[`find IPv4, ${N} running (2 x ${N} files)`].median;
    console.log(`\nvirsh, once each (wall time)`);
    console.log(`  ${`${N} x \`virsh dumpxml\` (one process each)`.padEnd(44)} ${naive.toFixed(0).padStart(8)} ms        ${(naive / find).toFixed(0)}x find`);
    console.log(`  ${`${N} x dumpxml in one virsh session`.padEnd(44)} ${oneSession.toFixed(0).padStart(8)} ms        ${(oneSession / find).toFixed(1)}x find`);
  }
  // The goal's finds: with the code cache, through a whole index (the directories unchanged for
  // two seconds: most finds); the others are printed above.
  const finds = (r) => Object.entries(r).filter(([k]) => k.startsWith('find ') && !/no code cache|no index|a moment ago|the first/.test(k));
  for (const [label, r] of [['wall', results], ['cpu', cpu]]) {
    const base = r['node -e 0'].median;
    const worst = Math.max(...finds(r).map(([, x]) => x.median));
    // What a find that reads every file pays before any work of its own: node's start, plus what
    // starting the program and reading the files each add to it. The index is what takes find below it.
    const floor = base + Object.keys(floors).reduce((sum, k) => sum + (r[k].median - base), 0);
    console.log(
      `slowest find / node -e 0, ${label}: ${(worst / base).toFixed(2)}x (goal: at most 1.5x); ` +
        `the program's start plus reading every file (a find without its index): ${(floor / base).toFixed(2)}x`,
    );
  }
  ok = true;
} finally {
  stopStandIn?.();
  if (uri) spawnSync('bash', [HARNESS, 'stop', root], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
  if (!ok) process.exitCode = 1;
}
