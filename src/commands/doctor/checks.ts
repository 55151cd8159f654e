/**
 * The checks of `doctor`, each a small function from what was observed to result lines, so that
 * every verdict can be tested on its own. Gathering (files, /proc, virsh, systemctl) is in
 * run-doctor.ts.
 */
import { existsSync, statSync, type Stats } from 'node:fs';
import type { Domain } from '../../core/domain';
import type { CacheEntry } from '../../adapters/cache-store';
import { trustProblem } from '../../adapters/state-dir';
import { fail, ok, warn, type CheckResult, type DoctorPaths } from './check';
import { HOOK_MARKER, runsQemuD, type HookFile } from './hook-files';
import type { HostProcess } from './host-probe';
import { systemctl } from './host-probe';

const INSTALL = 'sudo ./install.sh from the nova-ipmeta checkout, or reinstall the nova-ipmeta package';
const RESTART = 'restart it: install.sh --restart-libvirtd, or systemctl restart libvirtd (or virtqemud); running guests keep running';
export const NODE_MIN = [18, 19] as const;

export function checkNode(version: string, execPath: string): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor, needMinor] = NODE_MIN;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return ok('node', `v${version} (${execPath})`);
  return fail('node', `v${version} (${execPath}) is older than ${needMajor}.${needMinor}`, 'apt-get install nodejs (Debian 12, Ubuntu 24.04), then run install.sh again');
}

/** The hook libvirt will run: ours, executable, and what it runs is there. */
export function checkHook(hooksDir: string, files: readonly HookFile[]): CheckResult {
  const ours = files.filter((f) => f.ours);
  const main = ours[0];
  if (!main) {
    const foreign = files.find((f) => f.place === 'qemu.d');
    if (foreign) return fail('hook', `${foreign.path} is not nova-ipmeta's (no "${HOOK_MARKER}" line)`, `rename it, then ${INSTALL}`);
    return fail('hook', `no nova-ipmeta hook in ${hooksDir} (neither qemu.d/nova-ipmeta nor qemu is ours)`, INSTALL);
  }
  if (!main.executable) return fail('hook', `${main.path} is not executable: libvirt skips it`, `chmod 0755 ${main.path}`);
  if (main.command === undefined) return fail('hook', `${main.path} has no NOVA_IPMETA= line`, INSTALL);
  if (!isExecutableFile(main.command)) return fail('hook', `${main.path} runs ${main.command}, which is not an executable file`, INSTALL);
  const second = ours[1];
  if (second) return warn('hook', `ours at ${main.path} and at ${second.path}: it runs twice`, `rm ${second.path} (install.sh keeps only one)`);
  return ok('hook', `${main.path} (nova-ipmeta's, executable, runs ${main.command})`);
}

/** Whether the daemon's libvirt runs the hook where it is. */
export function checkLibvirtVersion(version: string | Error, uri: string | undefined, hook: HookFile | undefined): CheckResult {
  if (version instanceof Error) {
    return fail('libvirt', `cannot ask the daemon${uri ? ` at ${uri}` : ''}: ${version.message}`, 'is libvirt running? systemctl status libvirtd (or virtqemud)');
  }
  const qemuD = runsQemuD(version);
  if (hook?.place === 'qemu.d' && !qemuD) {
    return fail('libvirt', `libvirt ${version} runs only hooks/qemu, never ${hook.path} (qemu.d needs 6.5)`, `${INSTALL}: it places the hook by the version`);
  }
  return ok('libvirt', `libvirt ${version}: ${qemuD ? 'runs hooks/qemu.d/ scripts (>= 6.5)' : 'runs hooks/qemu only (< 6.5)'}`);
}

/**
 * libvirt looks for hooks when it starts: a daemon started before the hook appeared does not run
 * it. The hook's mtime is when it appeared: updates keep it (nova-ipmeta-setup), since a hook the
 * daemon found at start runs in its new version without a restart.
 */
export function checkHookSeen(hook: HookFile | undefined, daemons: readonly HostProcess[]): CheckResult {
  if (!hook) return warn('hook seen', 'not checked: no hook of ours', INSTALL);
  if (daemons.length === 0) return warn('hook seen', 'no libvirtd or virtqemud of this system runs', 'start libvirt: systemctl start libvirtd');
  const appeared = hook.stats.mtime;
  // Start times are known to a tick (10 ms): a hook this close to the start is given the benefit.
  const blind = daemons.filter((d) => d.startedAt.getTime() + 50 < appeared.getTime());
  const first = blind[0];
  if (first) {
    return fail(
      'hook seen',
      `${first.comm} (pid ${first.pid}) started ${iso(first.startedAt)}, before the hook appeared (${iso(appeared)}): it does not run it`,
      RESTART,
    );
  }
  const d = daemons.map((p) => `${p.comm} (pid ${p.pid}) started ${iso(p.startedAt)}`).join(', ');
  return ok('hook seen', `${d}, after the hook appeared (${iso(appeared)})`);
}

/** The state or cache directory: there, root's, 0700 (it holds every instance's addresses). */
export function checkPrivateDir(check: string, path: string): CheckResult {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return fail(check, `${path}: ${code === 'ENOENT' ? 'missing' : code}`, `${INSTALL} (it creates it 0700), or: install -d -m 0700 ${path}`);
  }
  if (!stats.isDirectory()) return fail(check, `${path} is not a directory`, `move it away, then ${INSTALL}`);
  const problem = trustProblem(stats, path, 'directory');
  if (problem !== undefined) return fail(check, `${problem} (nova-ipmeta refuses it)`, `chown root:root ${path}; chmod 0700 ${path}`);
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  if (mode !== '0700') return warn(check, `${path} has mode ${mode}: others can read every instance's addresses`, `chmod 0700 ${path}`);
  return ok(check, `${path} (0700, uid ${stats.uid})`);
}

/** Every instance has a cache file (else nothing can be written for it); every file is valid. */
export function checkCache(domains: readonly Domain[] | Error, cache: readonly CacheEntry[] | Error): CheckResult[] {
  if (domains instanceof Error) return [fail('cache', `cannot list the domains: ${domains.message}`, 'is libvirt running? systemctl status libvirtd')];
  if (cache instanceof Error) return [fail('cache', `cannot read the cache: ${cache.message}`, 'fix the state directory (see above)')];
  const instances = domains.filter((d) => d.nova !== undefined);
  const cached = new Set(cache.map((e) => e.uuid));
  const missing = instances.filter((d) => !cached.has(d.uuid));
  const results: CheckResult[] = [];
  if (missing.length > 0) {
    results.push(
      fail(
        'cache',
        `${count(missing.length, 'instance')} of ${instances.length} without a cache file: ${sample(missing.map((d) => `${d.name} (${d.uuid})`))}`,
        "nova-ipmeta cache put UUID FILE, with the instance's network_info from nova",
      ),
    );
  } else {
    results.push(ok('cache', `${count(instances.length, 'instance')}, each with a cache file`));
  }
  const invalid = cache.flatMap((e) => (e.error === undefined ? [] : [`${e.uuid}: ${e.error}`]));
  if (invalid.length > 0) {
    results.push(fail('cache files', `${count(invalid.length, 'invalid file')}: ${sample(invalid)}`, 'nova-ipmeta cache put UUID FILE again, or nova-ipmeta cache rm UUID'));
  }
  const onHost = new Set(domains.map((d) => d.uuid));
  const stale = cache.filter((e) => e.error === undefined && !onHost.has(e.uuid));
  if (stale.length > 0) {
    results.push(warn('cache files', `${count(stale.length, 'file')} for instances not on this host: ${sample(stale.map((e) => e.uuid))}`, 'nova-ipmeta cache rm UUID once the instance has left for good'));
  }
  return results;
}

export const WATCH_UNIT = 'nova-ipmeta-watch.service';
export const TIMER_UNIT = 'nova-ipmeta-reconcile.timer';

/** The watcher and the periodic reconcile: systemd's units, or the cron file where systemd does not run. */
export function checkServices(paths: DoctorPaths, processes: readonly HostProcess[], query: typeof systemctl = systemctl): CheckResult[] {
  if (existsSync(paths.systemdRunDir)) {
    const watch = query('is-active', WATCH_UNIT);
    const timerEnabled = query('is-enabled', TIMER_UNIT);
    const timerActive = query('is-active', TIMER_UNIT);
    return [
      watch === 'active'
        ? ok('watcher', `${WATCH_UNIT} active`)
        : fail('watcher', `${WATCH_UNIT} ${watch}`, `systemctl enable --now ${WATCH_UNIT}; journalctl -u ${WATCH_UNIT}`),
      timerEnabled === 'enabled' && timerActive === 'active'
        ? ok('timer', `${TIMER_UNIT} enabled, active`)
        : fail('timer', `${TIMER_UNIT} ${timerEnabled}, ${timerActive}`, `systemctl enable --now ${TIMER_UNIT}`),
    ];
  }
  if (!existsSync(paths.cronFile)) {
    return [fail('cron', `systemd does not run and ${paths.cronFile} is missing: nothing runs the periodic reconcile or the watcher`, INSTALL)];
  }
  const results = [ok('cron', `systemd does not run: ${paths.cronFile} runs the periodic reconcile and the watcher`)];
  const cron = processes.find((p) => p.comm === 'cron' || p.comm === 'crond');
  const watcher = processes.find((p) => p.argv.some((a) => a.endsWith('nova-ipmeta.cjs')) && p.argv.includes('watch'));
  if (!cron) results.push(warn('cron daemon', 'no cron daemon runs: neither the periodic reconcile nor the watcher will', 'apt-get install cron, or start it'));
  results.push(
    watcher
      ? ok('watcher', `nova-ipmeta watch runs (pid ${watcher.pid})`)
      : warn('watcher', 'nova-ipmeta watch does not run', 'cron starts it within a minute; else see syslog (tag nova-ipmeta)'),
  );
  return results;
}

function isExecutableFile(path: string): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.(\d\d)\d?Z$/, '.$1Z');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The first few of a list, and how many more. */
function sample(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
