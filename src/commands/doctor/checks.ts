/**
 * The verdicts of `doctor`, each a pure function from what was observed (./observe.ts) to result
 * lines, in the order an operator fixes things: configuration, Node and its code cache, hook,
 * libvirt, state, cache, services. Every line that is not ok says what to do.
 */
import type { Stats } from 'node:fs';
import type { DomainFacts } from '../../core/domain';
import type { Ini } from '../../core/ini';
import type { CacheEntry } from '../../adapters/cache-store';
import type { CodeCacheReport } from '../../adapters/code-cache';
import { daemonsBlindTo, HOOK_MARKER, runsQemuD, type HookFile } from '../../adapters/host/hook-files';
import { restartCommand } from '../../adapters/host/libvirt-daemon';
import type { LibvirtRoute } from '../../adapters/libvirt/open';
import { exposedSecrets } from '../../adapters/settings';
import { whereRuns, type ContainedProcess, type HostProcess } from '../../adapters/host/processes';
import { trustProblem } from '../../adapters/state-dir';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about it; always there for warn and fail. */
  readonly fix?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
export const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });

const INSTALL = 'sudo ./install.sh from the nova-ipmeta checkout, or reinstall the nova-ipmeta package';
const NO_HOOK_MODE =
  'sudo ./install.sh --no-hook, or for the package: touch /etc/nova-ipmeta/no-hook, then dpkg-reconfigure nova-ipmeta (the containerized mode: the watcher covers every guest start; nova-ipmeta(8), CONTAINERIZED LIBVIRT)';

/** What to check when libvirt cannot be asked: the service, or the container it runs in. */
export function daemonAdvice(elsewhere: readonly ContainedProcess[], systemd: boolean): string {
  const contained = elsewhere[0];
  if (contained) {
    const runtime = contained.container?.split(' ')[0];
    const ps = runtime === 'docker' || runtime === 'podman' ? `${runtime} ps` : 'its container tool';
    return `is ${contained.comm} in ${whereRuns(contained)} up, and its socket shared with this host? (${ps}; --connect or [libvirt] connection_uri names the socket)`;
  }
  return systemd ? 'is libvirt running? systemctl status libvirtd (or virtqemud)' : 'is libvirt running? service libvirtd status';
}

/** The config file was read (`detail` says what it set); a Keystone secret in it must not be readable by others. */
export function checkConfig(path: string, ini: Ini, seen: DirObservation, detail: string): CheckResult {
  const exposed = exposedSecrets(path, ini, seen.kind === 'stat' ? seen.stats.mode : undefined);
  return exposed === undefined ? ok('config', detail) : warn('config', exposed, `chmod 0640 ${path}`);
}

/** `18.19` as package.json's engines declares it, against the running Node's version. */
export function checkNode(version: string, execPath: string, minimum: string | undefined): CheckResult {
  if (minimum === undefined) return ok('node', `v${version} (${execPath}); a development build records no minimum`);
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = minimum.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return ok('node', `v${version} (${execPath})`);
  return fail('node', `v${version} (${execPath}) is older than ${minimum}`, 'apt-get install nodejs (Debian 12, Ubuntu 24.04), then reinstall nova-ipmeta');
}

/**
 * V8's code cache beside the bundle (scripts/bundle-loader.cjs): used by every program, or why
 * not. Never a failure: without it every start compiles the program, which is slower and works.
 * The fix makes it with `node`, the Node running now, as the installer does.
 */
export function checkCodeCache(report: CodeCacheReport | undefined, node: string): CheckResult {
  if (report === undefined) return ok('code cache', 'none: run from source, not from the bundle');
  const unused = report.programs.filter((p) => p.state !== 'used');
  if (unused.length === 0) return ok('code cache', `${report.file}, used by ${theList(report.programs.map((p) => p.program))}`);
  const fix = `${node} ${report.bundle} --write-code-cache (the package does it when nodejs changes)`;
  const refused = unused.filter((p) => p.state === 'refused').map((p) => p.program);
  if (refused.length > 0) {
    return warn('code cache', `${report.file}: V8 refuses its data for ${theList(refused)} (made by another V8, with other flags, or damaged): every start compiles the program`, fix);
  }
  const why = report.fileExists ? 'is for another Node or another build, or cut short' : 'is missing';
  return warn('code cache', `${report.file} ${why}: every start compiles the program`, fix);
}

/** "the A", "the A and the B", "the A, the B and the C". */
function theList(items: readonly string[]): string {
  const the = items.map((item) => `the ${item}`);
  return the.length < 2 ? (the[0] ?? '') : `${the.slice(0, -1).join(', ')} and ${the[the.length - 1]}`;
}

/**
 * The hook libvirt will run: ours, executable, and what it runs is there. `noHookFile`: the
 * file saying nova-ipmeta was installed without a hook (install.sh --no-hook, or for the
 * package /etc/nova-ipmeta/no-hook), when it exists: then no hook is what is expected.
 */
export function checkHook(
  hooksDir: string,
  files: readonly HookFile[],
  isExecutable: (path: string) => boolean,
  mode: { readonly noHookFile?: string | undefined; readonly containerized?: boolean } = {},
): CheckResult {
  const ours = files.filter((f) => f.ours);
  const main = ours[0];
  const { noHookFile } = mode;
  if (noHookFile !== undefined) {
    if (main) return warn('hook', `installed without a hook (${noHookFile}), yet ${main.path} is ours`, `rm ${main.path}, or rm ${noHookFile} and ${INSTALL}`);
    return ok('hook', `not used in this mode: installed without a hook (${noHookFile}); the watcher reconciles every guest start`);
  }
  if (!main) {
    const foreign = files.find((f) => f.place === 'qemu.d');
    if (foreign) return fail('hook', `${foreign.path} is not nova-ipmeta's (no "${HOOK_MARKER}" line)`, `rename it, then ${INSTALL}`);
    const none = `no nova-ipmeta hook in ${hooksDir} (neither qemu.d/nova-ipmeta nor qemu is ours)`;
    // A containerized daemon would never run one here: the mode without it is the fix.
    if (mode.containerized) return fail('hook', `${none}, and libvirt runs in a container`, NO_HOOK_MODE);
    return fail('hook', none, INSTALL);
  }
  if (!main.executable) return fail('hook', `${main.path} is not executable: libvirt skips it`, `chmod 0755 ${main.path}`);
  if (main.command === undefined) return fail('hook', `${main.path} has no NOVA_IPMETA= line`, INSTALL);
  if (!isExecutable(main.command)) return fail('hook', `${main.path} runs ${main.command}, which is not an executable file`, INSTALL);
  const second = ours[1];
  if (second) return warn('hook', `ours at ${main.path} and at ${second.path}: it runs twice`, `rm ${second.path} (install.sh keeps only one)`);
  return ok('hook', `${main.path} (nova-ipmeta's, executable, runs ${main.command})`);
}

/** Whether the daemon's libvirt runs the hook where it is; and which way the calls go (adapters/libvirt/open.ts). */
export function checkLibvirtVersion(
  version: string | Error,
  uri: string | undefined,
  hook: HookFile | undefined,
  route: LibvirtRoute,
  advice = daemonAdvice([], true),
): CheckResult {
  if (version instanceof Error) {
    return fail('libvirt', `cannot ask the daemon${uri ? ` at ${uri}` : ''}: ${version.message}`, advice);
  }
  const qemuD = runsQemuD(version);
  if (hook?.place === 'qemu.d' && !qemuD) {
    return fail('libvirt', `libvirt ${version} runs only hooks/qemu, never ${hook.path} (qemu.d needs 6.5)`, `${INSTALL}: it places the hook by the version`);
  }
  const calls = route.kind === 'socket' ? `calls over its socket ${route.socket}` : `calls through virsh (${route.why})`;
  return ok('libvirt', `libvirt ${version}: ${qemuD ? 'runs hooks/qemu.d/ scripts (>= 6.5)' : 'runs hooks/qemu only (< 6.5)'}; ${calls}`);
}

/** The libvirt daemons: of this system, or of another mount namespace (a container). */
export function checkDaemon(here: readonly HostProcess[], elsewhere: readonly ContainedProcess[], systemd: boolean): CheckResult {
  if (here.length > 0) return ok('daemon', here.map((d) => `${d.comm} (pid ${d.pid})`).join(', '));
  const contained = elsewhere[0];
  if (contained) {
    return ok(
      'daemon',
      `${elsewhere.map((d) => `${d.comm} (pid ${d.pid}) in ${whereRuns(d)}`).join(', ')}: containerized libvirt, reached through its socket; it runs hooks from its own /etc/libvirt/hooks, never this host's`,
    );
  }
  return warn('daemon', 'no libvirtd or virtqemud runs, on this system or in a container', systemd ? 'systemctl start libvirtd (or start the container that runs it)' : 'start libvirtd (or the container that runs it)');
}

export interface HookSeenContext {
  /** libvirtd or virtqemud of this system. */
  readonly daemons: readonly HostProcess[];
  /** Those of other mount namespaces (containers). */
  readonly elsewhere?: readonly ContainedProcess[];
  readonly watcherActive: boolean;
  readonly systemd: boolean;
  /** Whether /etc/init.d has a script for this daemon (how it is restarted without systemd). */
  readonly initScript?: (daemon: string) => boolean;
  /** The oldest change time of another entry of hooks/qemu.d/ (an entry's ctime is never older than its creation). */
  readonly qemuDHeldSince?: Date | undefined;
  /** Installed without a hook (see checkHook). */
  readonly noHookFile?: string | undefined;
}

/**
 * libvirt looks for hooks when it starts (see daemonsBlindTo). A daemon that does not run the hook
 * yet is a warning, not a failure, while the watcher runs: it reconciles every guest start
 * meanwhile; the hook only makes migrations and restores exact from the first moment. A daemon
 * in a container never runs this host's hook at all: the containerized mode (no hook, the
 * watcher) fits it, and restarting it would not help.
 */
export function checkHookSeen(hook: HookFile | undefined, ctx: HookSeenContext): CheckResult {
  const { daemons, watcherActive, systemd, qemuDHeldSince } = ctx;
  const contained = ctx.elsewhere?.[0];
  if (ctx.noHookFile !== undefined && !hook) return ok('hook seen', 'not used in this mode (installed without a hook)');
  if (!hook) return warn('hook seen', 'not checked: no hook of ours', daemons.length === 0 && contained ? NO_HOOK_MODE : INSTALL);
  if (daemons.length === 0 && contained) {
    const detail = `${contained.comm} (pid ${contained.pid}) runs in ${whereRuns(contained)}: it never runs ${hook.path}`;
    return watcherActive ? warn('hook seen', `${detail}; the watcher covers guest starts`, NO_HOOK_MODE) : fail('hook seen', `${detail}, and no watcher runs`, NO_HOOK_MODE);
  }
  if (daemons.length === 0) return warn('hook seen', 'no libvirtd or virtqemud of this system runs', systemd ? 'systemctl start libvirtd' : 'start libvirtd');
  const appeared = hook.stats.mtime;
  const first = daemonsBlindTo(hook, daemons, qemuDHeldSince)[0];
  if (first) {
    const detail = `${first.comm} (pid ${first.pid}) started ${iso(first.startedAt)}, before the hook appeared (${iso(appeared)}): it runs the hook from its next start`;
    const fix = `${restartCommand(first.comm, { systemd, initScript: ctx.initScript?.(first.comm) ?? false }).join(' ')} (running guests keep running)`;
    return watcherActive ? warn('hook seen', `${detail}; the watcher covers guest starts meanwhile`, fix) : fail('hook seen', `${detail}, and no watcher runs`, fix);
  }
  const d = daemons.map((p) => `${p.comm} (pid ${p.pid}) started ${iso(p.startedAt)}`).join(', ');
  if (daemons.some((p) => p.startedAt.getTime() + 50 < appeared.getTime())) {
    return ok('hook seen', `${d}, when hooks/qemu.d/ already held a script: it reads the directory at every call`);
  }
  return ok('hook seen', `${d}, after the hook appeared (${iso(appeared)})`);
}

export type DirObservation = { readonly kind: 'stat'; readonly stats: Stats } | { readonly kind: 'error'; readonly code: string };

/** The state or cache directory: there, root's, 0700 (it holds every instance's addresses). */
export function checkPrivateDir(check: string, path: string, seen: DirObservation): CheckResult {
  if (seen.kind === 'error') {
    return fail(check, `${path}: ${seen.code === 'ENOENT' ? 'missing' : seen.code}`, `${INSTALL} (it creates it 0700), or: install -d -m 0700 ${path}`);
  }
  const { stats } = seen;
  if (!stats.isDirectory()) return fail(check, `${path} is not a directory`, `move it away, then ${INSTALL}`);
  const problem = trustProblem(stats, path, 'directory');
  if (problem !== undefined) return fail(check, `${problem} (nova-ipmeta refuses it)`, `chown root:root ${path}; chmod 0700 ${path}`);
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  if (mode !== '0700') return warn(check, `${path} has mode ${mode}: others can read every instance's addresses`, `chmod 0700 ${path}`);
  return ok(check, `${path} (0700, uid ${stats.uid})`);
}

/** Every instance has a cache file (else nothing can be written for it); every file is valid. */
export function checkCache(domains: readonly DomainFacts[] | Error, cache: readonly CacheEntry[] | Error, advice = daemonAdvice([], true)): CheckResult[] {
  if (domains instanceof Error) return [fail('cache', `cannot list the domains: ${domains.message}`, advice)];
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
        'nova-ipmeta cache sync (from Neutron), or nova-ipmeta cache put UUID FILE',
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

/** What runs the watcher and the periodic reconcile: systemd's units, or cron where systemd does not run. */
export type ServicesObservation =
  | { readonly kind: 'systemd'; readonly watch: string; readonly timerEnabled: string; readonly timerActive: string }
  | { readonly kind: 'cron'; readonly cronFile: string; readonly cronFileExists: boolean; readonly cronDaemon: HostProcess | undefined; readonly watcher: HostProcess | undefined };

export function checkServices(seen: ServicesObservation): CheckResult[] {
  if (seen.kind === 'systemd') {
    return [
      seen.watch === 'active'
        ? ok('watcher', `${WATCH_UNIT} active`)
        : fail('watcher', `${WATCH_UNIT} ${seen.watch}`, `systemctl enable --now ${WATCH_UNIT}; journalctl -u ${WATCH_UNIT}`),
      seen.timerEnabled === 'enabled' && seen.timerActive === 'active'
        ? ok('timer', `${TIMER_UNIT} enabled, active`)
        : fail('timer', `${TIMER_UNIT} ${seen.timerEnabled}, ${seen.timerActive}`, `systemctl enable --now ${TIMER_UNIT}`),
    ];
  }
  if (!seen.cronFileExists) {
    return [fail('cron', `systemd does not run and ${seen.cronFile} is missing: nothing runs the periodic reconcile or the watcher`, INSTALL)];
  }
  const results = [ok('cron', `systemd does not run: ${seen.cronFile} runs the periodic reconcile and the watcher`)];
  if (!seen.cronDaemon) results.push(warn('cron daemon', 'no cron daemon runs: neither the periodic reconcile nor the watcher will', 'apt-get install cron, or start it'));
  results.push(
    seen.watcher
      ? ok('watcher', `nova-ipmeta watch runs (pid ${seen.watcher.pid})`)
      : warn('watcher', 'nova-ipmeta watch does not run', 'cron starts it within a minute; else see syslog (tag nova-ipmeta)'),
  );
  return results;
}

/** Whether the services observed run a watcher now. */
export function watcherRuns(seen: ServicesObservation): boolean {
  return seen.kind === 'systemd' ? seen.watch === 'active' : seen.watcher !== undefined;
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
