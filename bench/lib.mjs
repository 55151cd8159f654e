// Shared by the benchmarks: run commands interleaved (A B C A B C ...) so that the machine's
// noise (2 shared cores) hits every contender alike, and report medians and their ratios.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { programsFileOf } from '../scripts/bundle-layout.mjs';

/**
 * The environment of every command a bench runs: its own, less the NODE_* variables. Node reads
 * them at every start, and a machine whose network needs a CA of its own sets NODE_EXTRA_CA_CERTS
 * (this project's do): then every Node start parses that CA bundle first, about 50 ms here, as
 * long as `node -e 0` itself. That constant would sit in every contender and every baseline alike
 * and pull every ratio towards 1. libvirt's hooks (HOME, LC_ALL, PATH, PWD only) never have it,
 * this project's systemd units do not set it, and an operator's shell on a hypervisor seldom
 * does. A contender's own `env` still applies on top.
 * @param {Record<string,string>} [extra]
 */
export function measuredEnv(extra = {}) {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_'))), ...extra };
}

/**
 * What the waited-for children of this process have used so far, in the kernel's accounting
 * (/proc/self/stat): minor page faults (`cminflt`) and CPU time (`cutime` + `cstime`, in clock
 * ticks of 10 ms). A command's, and its own children's, once it has been waited for.
 */
export function childUsage() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return { pageFaults: Number(fields[8]), cpuTicks: Number(fields[13]) + Number(fields[14]) };
}

/**
 * @param {Record<string, {argv: string[], input?: string, env?: Record<string,string>, before?: () => void}>} contenders
 *   (`before`: run before each of the contender's runs, outside the timed window)
 * @param {{runs?: number, warmup?: number}} [opts]
 * @returns {Record<string, {median: number, min: number, runs: number, pages: number}>} milliseconds,
 *   and the pages the command faulted in (median): unlike time, the same from run to run, and on
 *   these machines each costs time of its own (`pageFaultCost`)
 */
export function measure(contenders, { runs = 20, warmup = 2 } = {}) {
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  const pages = Object.fromEntries(names.map((n) => [n, []]));
  // Each contender's arguments and environment made once, outside the timed window.
  const spawns = Object.fromEntries(
    names.map((n) => {
      const { argv, input, env } = contenders[n];
      return [n, { file: argv[0], args: argv.slice(1), options: { input, env: measuredEnv(env), stdio: ['pipe', 'ignore', 'pipe'] } }];
    }),
  );
  for (let i = 0; i < warmup + runs; i++) {
    for (const n of names) {
      const { file, args, options } = spawns[n];
      contenders[n].before?.();
      const faults = childUsage().pageFaults;
      const t0 = process.hrtime.bigint();
      const r = spawnSync(file, args, options);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${n}: exit ${r.status}: ${r.stderr}`);
      if (i >= warmup) {
        samples[n].push(ms);
        pages[n].push(childUsage().pageFaults - faults);
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ...stats(samples[n]), pages: stats(pages[n]).median }]));
}

/**
 * What a page fault costs on this machine, in microseconds: a fresh Node writes 64 MiB it has
 * just allocated (every 4 KiB page faulted in, and zeroed), against writing it again. Every
 * process start pays this for each page it touches (`node -e 0` touches thousands), so ratios
 * against a Node start depend on it: a virtual machine whose memory its host maps lazily pays
 * far more per page than bare metal.
 */
function pageFaultCost() {
  const script = `const b = Buffer.allocUnsafeSlow(64 << 20);
    let t = process.hrtime.bigint(); b.fill(1); const first = process.hrtime.bigint() - t;
    t = process.hrtime.bigint(); b.fill(2); const again = process.hrtime.bigint() - t;
    console.log(JSON.stringify({ first: Number(first) / 1e3 / 16384, again: Number(again) / 1e3 / 16384 }));`;
  const runs = [1, 2, 3].map(() => JSON.parse(sh([process.execPath, '-e', script])));
  return { fault: stats(runs.map((r) => r.first - r.again)).median, write: stats(runs.map((r) => r.again)).median };
}

/**
 * The line a bench prints about this machine: its processor (a Node start is mostly page faults,
 * a program's own start mostly code run once, so the two machines' ratios differ where these do)
 * and its page faults (see `pageFaultCost`).
 */
export function machineLine() {
  const { fault, write } = pageFaultCost();
  const processors = cpus();
  return `this machine: ${processors.length} processors (${processors[0]?.model.trim() ?? 'model unknown'}); a page faulted in costs ${fault.toFixed(2)} µs (writing a 4 KiB page already in: ${write.toFixed(2)} µs)`;
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], runs: sorted.length };
}

/** Prints one line per contender, with its ratio to `baseline`. */
export function report(title, results, baseline) {
  console.log(`\n${title}`);
  const base = results[baseline].median;
  for (const [name, r] of Object.entries(results)) {
    const pages = r.pages === undefined ? '' : `  ${String(r.pages).padStart(6)} pages`;
    console.log(`  ${name.padEnd(44)} ${r.median.toFixed(1).padStart(8)} ms median  ${(r.median / base).toFixed(2)}x${pages} ${name === baseline ? '(baseline)' : ''}`);
  }
}

/** Runs argv to its end; its stdout, or an Error naming it with its stderr when it failed. */
export function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 1 << 28, env: measuredEnv() });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A process named libvirtd in this mount namespace (a copy of sleep), written into each live
 * directory's driver.pid: made-up XML directories then count as a running daemon's own, so the
 * read commands answer from their files alone (docs/design.md, "libvirt's own XML files").
 * Returns its stop.
 */
export async function standInDaemon(workDir, liveDirs) {
  const { writeFileSync } = await import('node:fs');
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  copyFileSync('/bin/sleep', join(workDir, 'libvirtd'));
  const child = spawn(join(workDir, 'libvirtd'), ['3600'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  for (const d of liveDirs) writeFileSync(join(d, 'driver.pid'), `${child.pid}\n`);
  return () => child.kill('SIGKILL');
}

/**
 * Once this process has ended, however it ended, runs `stop` (argv) and removes `dir`: a bench
 * killed or interrupted runs no `finally`, and the private daemon it started would outlive it
 * (and hold its directory). A detached shell waits for this pid; after a normal end the bench has
 * already stopped and removed them, and the harnesses' stop does nothing for a missing directory.
 */
export async function cleanUpWhenGone(stop, dir) {
  const { spawn } = await import('node:child_process');
  const script = 'pid=$1 dir=$2; shift 2; while kill -0 "$pid" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf -- "$dir"';
  spawn('sh', ['-c', script, 'sh', String(process.pid), dir, ...stop], { detached: true, stdio: 'ignore' }).unref();
}

/** A copy of the built bundle at `target` (a path ending in .cjs): its head and, beside it, its programs file (scripts/bundle-layout.mjs). */
export function copyBundle(from, target) {
  copyFileSync(from, target);
  copyFileSync(programsFileOf(from), programsFileOf(target));
}
