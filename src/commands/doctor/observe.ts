/**
 * What `doctor` looks at (files, /proc, libvirt, systemctl), gathered into one value for the pure
 * verdicts of ./checks.ts. Every failure to look becomes part of the observation, never a throw,
 * unless it is a bug.
 */
import { existsSync, statSync } from 'node:fs';
import { isExpectedFailure, SystemError } from '../../errors';
import type { Io } from '../../io';
import type { DomainFacts } from '../../core/domain';
import { CacheStore, type CacheEntry } from '../../adapters/cache-store';
import { codeCacheReport, type CodeCacheReport } from '../../adapters/code-cache';
import { allDomains } from '../../adapters/domain-inventory';
import { errnoCode } from '../../adapters/os-error';
import type { Settings } from '../../adapters/settings';
import { findHookFiles, qemuDHeldSince, type HookFile } from '../../adapters/host/hook-files';
import { BUNDLE_COMMS, isWatcher, processesOf, type ContainedProcess, type HostProcess } from '../../adapters/host/processes';
import { DAEMON_NAMES, libvirtDaemonsByHooks } from '../../adapters/host/libvirt-daemon';
import { systemctl, systemdRuns } from '../../adapters/host/systemd';
import { VirshSession } from '../../adapters/virsh/session';
import { TIMER_UNIT, WATCH_UNIT, type DirObservation, type ServicesObservation } from './checks';
import { libvirtRoute, type LibvirtRoute } from '../../adapters/libvirt/open';

/** Where doctor looks on the host; every one overridable for tests (the hooks directory by flag too). */
export interface DoctorPaths {
  readonly hooksDir: string;
  readonly procDir: string;
  /** Exists when systemd runs (sd_booted). */
  readonly systemdRunDir: string;
  readonly cronFile: string;
  /** Exists when nova-ipmeta was installed without a hook (install.sh --no-hook writes it; the package's postinst honours it). */
  readonly noHookFile: string;
}

export const HOST_PATHS: DoctorPaths = {
  hooksDir: '/etc/libvirt/hooks',
  procDir: '/proc',
  systemdRunDir: '/run/systemd/system',
  cronFile: '/etc/cron.d/nova-ipmeta',
  noHookFile: '/etc/nova-ipmeta/no-hook',
};

export interface Observations {
  readonly hooks: readonly HookFile[];
  /** The oldest change time of an entry of hooks/qemu.d/ other than ours. */
  readonly qemuDHeldSince: Date | undefined;
  readonly daemonVersion: string | Error;
  /** Which way reconcile and the read commands call libvirt. */
  readonly libvirtRoute: LibvirtRoute;
  /** libvirtd or virtqemud processes that run the hooks in the hooks directory: this system's, or sharing it. */
  readonly daemons: readonly HostProcess[];
  /** Those of other mount namespaces that do not: a containerized libvirt (kolla-ansible's nova_libvirt). */
  readonly daemonsElsewhere: readonly ContainedProcess[];
  /** Installed without a hook: the path of the file that says so. */
  readonly noHookFile: string | undefined;
  /** The config file (absent when the default one is not there). */
  readonly configFile: DirObservation;
  readonly stateDir: DirObservation;
  readonly cacheDir: DirObservation;
  readonly domains: readonly DomainFacts[] | Error;
  readonly cache: readonly CacheEntry[] | Error;
  readonly services: ServicesObservation;
  /** What the bundle's head says of V8's code cache; undefined when run from source. */
  readonly codeCache: CodeCacheReport | undefined;
  readonly systemd: boolean;
  /** The libvirt daemons with an init script (how to restart them without systemd). */
  readonly initScripts: ReadonlySet<string>;
}

const VERSION_TIMEOUT_MS = 15_000;

export async function observe(settings: Settings, paths: DoctorPaths, io: Io): Promise<Observations> {
  const systemd = systemdRuns(paths.systemdRunDir);
  const daemons = libvirtDaemonsByHooks(paths.hooksDir, paths.procDir);
  return {
    hooks: findHookFiles(paths.hooksDir),
    qemuDHeldSince: qemuDHeldSince(paths.hooksDir),
    daemonVersion: await daemonVersion(settings.uri),
    libvirtRoute: libvirtRoute(settings.uri, settings.libvirtClient),
    daemons: daemons.here,
    daemonsElsewhere: daemons.contained,
    noHookFile: existsSync(paths.noHookFile) ? paths.noHookFile : undefined,
    configFile: statDir(settings.configFile),
    stateDir: statDir(settings.stateDir),
    cacheDir: statDir(settings.cacheDir),
    domains: await attempt(async () => (await allDomains(settings, io)).map((e) => e.domain)),
    cache: await attempt(() => Promise.resolve(new CacheStore(settings.cacheDir).list())),
    services: systemd ? await systemdServices() : cronServices(paths),
    codeCache: codeCacheReport(),
    systemd,
    initScripts: new Set(DAEMON_NAMES.filter((d) => existsSync(`/etc/init.d/${d}`))),
  };
}

async function systemdServices(): Promise<ServicesObservation> {
  return {
    kind: 'systemd',
    watch: await systemctl('is-active', WATCH_UNIT),
    timerEnabled: await systemctl('is-enabled', TIMER_UNIT),
    timerActive: await systemctl('is-active', TIMER_UNIT),
  };
}

function cronServices(paths: DoctorPaths): ServicesObservation {
  const processes = processesOf((comm) => comm === 'cron' || comm === 'crond' || BUNDLE_COMMS.has(comm), paths.procDir);
  return {
    kind: 'cron',
    cronFile: paths.cronFile,
    cronFileExists: existsSync(paths.cronFile),
    cronDaemon: processes.find((p) => p.comm === 'cron' || p.comm === 'crond'),
    watcher: processes.find(isWatcher),
  };
}

/** The daemon's own version (`virsh version --daemon`), or why it cannot be had. */
async function daemonVersion(uri: string | undefined): Promise<string | Error> {
  const virsh = new VirshSession({ uri, commandTimeoutMs: VERSION_TIMEOUT_MS });
  try {
    return await attempt(async () => {
      const out = await virsh.run(['version', '--daemon']);
      const version = /Running against daemon:\s*(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
      if (version === undefined) throw new SystemError(`virsh version --daemon printed no daemon version: ${JSON.stringify(out.slice(0, 200))}`);
      return version;
    });
  } finally {
    await virsh.close();
  }
}

function statDir(path: string): DirObservation {
  try {
    return { kind: 'stat', stats: statSync(path) };
  } catch (err) {
    return { kind: 'error', code: errnoCode(err) ?? String(err) };
  }
}

/** An expected failure becomes the observation; anything else is a bug and propagates. */
async function attempt<T>(look: () => Promise<T>): Promise<T | Error> {
  try {
    return await look();
  } catch (err) {
    if (isExpectedFailure(err)) return err;
    throw err;
  }
}

export function isExecutableFile(path: string): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && (s.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
