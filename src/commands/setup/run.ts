/**
 * `nova-ipmeta setup ACTION`: one step of an installation, for install.sh and the package's
 * maintainer scripts, which keep in shell only what must run before Node (install.sh finding a
 * Node, copying files). Every step is idempotent and says what it did, one line each.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, NotFoundError, SystemError, oneLine, quote } from '../../errors';
import type { Io } from '../../io';
import { ExitCode } from '../../exit-code';
import { errnoCode, systemFailure } from '../../adapters/os-error';
import { DEFAULTS, exposedSecrets, resolveSettings, settingsWithoutConfig, type Settings } from '../../adapters/settings';
import { decodeUtf8 } from '../../adapters/file-read';
import { daemonsBlindTo, findHookFiles, hookTarget, hooksDirOf, placeHook, qemuDHeldSince, removeEmptyDir, removeHooks } from '../../adapters/host/hook-files';
import { InstallManifest, type ManifestEntry, type ManifestKind } from '../../adapters/host/install-manifest';
import { containerizedDaemons, installedLibvirtVersion, libvirtDaemons, restartCommandHere, restartLibvirt } from '../../adapters/host/libvirt-daemon';
import { BUNDLE_COMMS, isWatcher, processesOf, whereRuns } from '../../adapters/host/processes';
import { systemctlDo, systemdRuns } from '../../adapters/host/systemd';
import { SETUP_ACTIONS, type Args } from './command';

const HOOKS_DIR = '/etc/libvirt/hooks';
const UNITS = ['nova-ipmeta-reconcile.timer', 'nova-ipmeta-watch.service'] as const;
/** systemd keeps a persistent timer's last run here after the unit is gone. */
const TIMER_STAMP = '/var/lib/systemd/timers/stamp-nova-ipmeta-reconcile.timer';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const action = SETUP_ACTIONS.find((a) => a === args.action);
  if (action === undefined) throw new InputError('action', `${quote(args.action)}: expected one of ${SETUP_ACTIONS.join(', ')}`);
  const hooksDir = args.hooksDir ?? HOOKS_DIR;
  const say = (line: string) => {
    io.out(`${line}\n`);
  };
  // Read by the actions that use it, and only then: enable-services has no business failing on the config.
  const settings = () => resolveSettings(args);
  const statePaths = () => settingsOrDefaults(args, say);
  // The installed command is a link to the bundle (install.sh): the bundle's directory is the link's target's.
  const libdir = args.libdir ?? dirname(realPath(process.argv[1] ?? '.'));
  /** The shell hook this installation ships, next to the bundle. */
  const hookScript = join(libdir, 'hooks', 'qemu');
  /** The installation's bundle: a watcher cron started runs it. */
  const bundle = join(libdir, 'nova-ipmeta.cjs');
  const libvirtVersion = async () => args.libvirtVersion ?? (await installedLibvirtVersion());
  switch (action) {
    case 'check-hook': {
      const target = hookTarget(hooksDir, await libvirtVersion(), hookScript);
      if (target.kind === 'foreign') return refuse(target.problem, io);
      say(target.path);
      return ExitCode.ok;
    }
    case 'place-hook': {
      const target = hookTarget(hooksDir, await libvirtVersion(), hookScript);
      if (target.kind === 'foreign') return refuse(target.problem, io);
      const placing = settings();
      ensureStateDir(placing, say);
      const manifest = new InstallManifest(placing.stateDir);
      const placed = placeHook(hooksDir, hookScript, target);
      for (const dir of placed.createdDirs) manifest.add({ kind: 'hookdir', path: dir });
      manifest.add({ kind: 'hook', path: target.path });
      say(`hook: ${target.path} (${placed.outcome}${placed.kept.length > 0 ? `, kept ${placed.kept.join(', ')}` : ''})`);
      for (const note of placed.notes) say(`hook: ${target.path}: ${note}`);
      for (const other of placed.removedOthers) {
        manifest.remove('hook', other);
        say(`hook: removed our older ${other}`);
      }
      const contained = containerizedDaemons(hooksDir)[0];
      if (contained) {
        say(
          `hook: ${contained.comm} (pid ${contained.pid}) in ${whereRuns(contained)} never runs this host's hook: install without it (install.sh --no-hook, or for the package /etc/nova-ipmeta/no-hook), the watcher covers every guest start (nova-ipmeta(8), CONTAINERIZED LIBVIRT)`,
        );
      }
      return ExitCode.ok;
    }
    case 'remove-hook':
      removeHook(hooksDir, statePaths(), say);
      return ExitCode.ok;
    case 'state-dir':
      ensureStateDir(statePaths(), say);
      return ExitCode.ok;
    case 'enable-services':
      await enableServices(bundle, say);
      return ExitCode.ok;
    case 'disable-services':
      await disableServices(bundle, say);
      return ExitCode.ok;
    case 'restart-libvirt': {
      // A containerized daemon is not this host's to restart, and would not run this host's hook anyway.
      const contained = containerizedDaemons(hooksDir)[0];
      if (contained) {
        say(`libvirt: not restarted: ${contained.comm} (pid ${contained.pid}) in ${whereRuns(contained)}, not on this system; it never runs this host's hook (install.sh --no-hook is the mode for it)`);
        return ExitCode.ok;
      }
      say(await restartLibvirt());
      return ExitCode.ok;
    }
    case 'restart-hint':
      restartHint(hooksDir, say);
      return ExitCode.ok;
    case 'record':
      record(new InstallManifest(settings().stateDir), decodeUtf8(await io.readStdin(1024 * 1024), 'stdin'));
      return ExitCode.ok;
    case 'uninstall':
      await uninstall(hooksDir, statePaths(), bundle, args.purge, say);
      return ExitCode.ok;
    case 'purge': {
      const { stateDir } = statePaths();
      rmSync(stateDir, { recursive: true, force: true });
      say(`state: removed ${stateDir} and the network_info cache`);
      return ExitCode.ok;
    }
    case 'check-config': {
      const { configFile, ini } = settings();
      const exposed = exposedSecrets(configFile, ini, modeOf(configFile));
      if (exposed !== undefined) say(`config: warning: ${exposed}: chmod 0640 ${configFile}`);
      return ExitCode.ok;
    }
    case 'libvirt-version': {
      const version = await libvirtVersion();
      if (version === undefined) throw new NotFoundError('no libvirt installed here (neither libvirtd, virtqemud nor virsh answers --version)');
      say(version);
      return ExitCode.ok;
    }
  }
}

/**
 * The settings, or, when the config file cannot be read, the ones that need none (flag,
 * environment, default), said in one line (errors about the config file show none of its
 * values). For the actions that must go on without it: the package's prerm and install.sh
 * --uninstall run remove-hook, uninstall and purge, and failing there would make the package
 * impossible to remove until the config is fixed; the postinst runs state-dir, and failing there
 * would leave an upgrade half-configured. None needs the operator's settings to be right: the
 * hook is found by its marker; with another state directory than the configured one, the manifest
 * is not found (remove-hook leaves the hook's directories, uninstall says nothing is recorded
 * there), state-dir makes the default one, purge removes it, and each says which. The other
 * actions that read the config fail on it: place-hook and record would write the manifest where
 * a fixed config does not look, and check-config is there to say.
 */
function settingsOrDefaults(args: Args, say: (line: string) => void): Settings {
  try {
    return resolveSettings(args);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const fallback = settingsWithoutConfig(args);
    say(`config: ${oneLine(err.message)}; using the ${fallback.stateDir === DEFAULTS.stateDir ? 'default ' : ''}state directory ${fallback.stateDir}`);
    return fallback;
  }
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}

/** Someone else's hook is in the way: said in one line, nothing changed, the answer is no. */
function refuse(problem: string, io: Io): ExitCode {
  io.err(`nova-ipmeta: ${problem}\n`);
  return ExitCode.negative;
}

/** The state directory and its cache directory: root's, 0700 (a symlink to a directory is fine: state moved to another disk). */
function ensureStateDir(settings: Settings, say: (line: string) => void): void {
  for (const dir of [settings.stateDir, settings.cacheDir]) {
    try {
      if (!statSync(dir).isDirectory()) throw new SystemError(`${dir} exists and is not a directory`);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err instanceof SystemError ? err : systemFailure('check', dir, err);
      mkdirSync(dir, { mode: 0o700 });
    }
    chownSync(dir, 0, 0);
    chmodSync(dir, 0o700);
  }
  say(`state: ${settings.stateDir} (0700, root)`);
}

function removeHook(hooksDir: string, settings: Settings, say: (line: string) => void): void {
  const manifest = new InstallManifest(settings.stateDir);
  for (const path of removeHooks(hooksDir)) {
    manifest.remove('hook', path);
    say(`hook: removed ${path}`);
  }
  for (const e of manifest.entries().filter((e) => e.kind === 'hook')) {
    // Placed under another hooks directory than this one (install.sh --hooks-dir at install only).
    const placedIn = hooksDirOf(e.path);
    if (placedIn !== undefined && placedIn !== hooksDir) {
      for (const path of removeHooks(placedIn)) say(`hook: removed ${path}`);
    }
    // A file the manifest says is ours but that no longer carries the marker: someone replaced it.
    if (exists(e.path)) say(`hook: ${e.path} is no longer ours: left as it is`);
    manifest.remove('hook', e.path);
  }
  // The directories placing the hook created, deepest first, when nothing else lives there.
  for (const e of manifest.entries().filter((e) => e.kind === 'hookdir').reverse()) {
    if (removeEmptyDir(e.path)) manifest.remove('hookdir', e.path);
  }
}

async function enableServices(bundle: string, say: (line: string) => void): Promise<void> {
  if (!systemdRuns()) {
    say('services: systemd does not run here: /etc/cron.d/nova-ipmeta runs the periodic reconcile and keeps the watcher up');
    // A watcher runs the code it started with, and cron's `flock -n` starts no other while it
    // lives: after an upgrade the old code would run for ever. Stopped, it is started again
    // (cron, or whatever init system runs it) with the code just installed.
    stopWatchers(bundle, say, ': cron starts it again, with this code, within a minute');
    if (!exists('/usr/sbin/cron') && !exists('/usr/sbin/crond')) {
      say('services: warning: no cron found: install cron (apt-get install cron), or run nova-ipmeta watch and nova-ipmeta reconcile from your init system');
    }
    return;
  }
  await systemctlDo('daemon-reload');
  await systemctlDo('enable', '--now', 'nova-ipmeta-reconcile.timer');
  await systemctlDo('enable', 'nova-ipmeta-watch.service');
  // restart, not start: an upgrade must run the new code.
  await systemctlDo('restart', 'nova-ipmeta-watch.service');
  say(`services: ${UNITS.join(' and ')} enabled and running`);
}

async function disableServices(bundle: string, say: (line: string) => void): Promise<void> {
  if (systemdRuns()) {
    for (const unit of [...UNITS, 'nova-ipmeta-reconcile.service']) await systemctlDo('disable', '--now', unit).catch(() => undefined);
    rmSync(TIMER_STAMP, { force: true });
    say('services: stopped and disabled');
    return;
  }
  stopWatchers(bundle, say, '');
}

/**
 * Without systemd, cron started the watcher (argv: node SBIN/nova-ipmeta watch, SBIN/nova-ipmeta a
 * link to LIBDIR/nova-ipmeta.cjs): SIGTERM to this installation's, and to no other installation's
 * (a checkout's, a test's).
 */
function stopWatchers(bundle: string, say: (line: string) => void, after: string): void {
  const ours = realPath(bundle);
  for (const p of processesOf((comm) => BUNDLE_COMMS.has(comm))) {
    if (p.pid === process.pid || !isWatcher(p) || !p.argv.some((a) => a.startsWith('/') && realPath(a) === ours)) continue;
    try {
      process.kill(p.pid, 'SIGTERM');
      say(`services: stopped the watcher (pid ${p.pid})${after}`);
    } catch {
      // gone meanwhile
    }
  }
}

/** libvirt reads hooks when it starts: says which running daemon does not run ours yet, and the one command that finishes the job. Restarts nothing. */
function restartHint(hooksDir: string, say: (line: string) => void): void {
  const hook = findHookFiles(hooksDir).find((f) => f.ours);
  if (!hook) return;
  const blind = daemonsBlindTo(hook, libvirtDaemons(), qemuDHeldSince(hooksDir))[0];
  if (!blind) return;
  say(`hook: ${blind.comm} (pid ${blind.pid}) was running before the hook appeared, and libvirt reads hooks only when it starts.`);
  say(`hook: to finish, run once:  ${restartCommandHere(blind.comm).join(' ')}`);
  say('hook: running guests keep running; until then, the watcher (nova-ipmeta watch) writes the ports of guests that start.');
}

/** Adds `KIND PATH [SHA256]` lines (install.sh's files) to the manifest. */
function record(manifest: InstallManifest, text: string): void {
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const [kind = '', path = '', sha256] = line.split(' ');
    if (!['dir', 'file', 'conf'].includes(kind) || !path.startsWith('/')) throw new InputError('stdin', `${quote(line)}: expected "dir|file|conf /PATH [SHA256]"`);
    manifest.add({ kind: kind as ManifestKind, path, ...(sha256 ? { sha256 } : {}) });
  }
}

/** Removes what the manifest lists, last created first; an edited config file stays unless `purge`. */
async function uninstall(hooksDir: string, settings: Settings, bundle: string, purge: boolean, say: (line: string) => void): Promise<void> {
  await disableServices(bundle, say);
  removeHook(hooksDir, settings, say);
  const manifest = new InstallManifest(settings.stateDir);
  const kept: ManifestEntry[] = [];
  const entries = manifest.entries().filter((e) => e.kind === 'file' || e.kind === 'conf' || e.kind === 'dir');
  if (entries.length === 0) say(`nothing recorded in ${manifest.path}: no files of an install.sh installation left here`);
  for (const e of [...entries].reverse()) {
    if (e.kind === 'dir') {
      if (removeEmptyDir(e.path)) say(`removed ${e.path}/`);
      else {
        say(`kept ${e.path}/ (not empty)`);
        kept.push(e);
      }
    } else if (e.kind === 'conf' && !purge && exists(e.path) && sha256Of(e.path) !== e.sha256) {
      say(`kept ${e.path} (edited; --uninstall --purge removes it)`);
      kept.push(e);
    } else if (exists(e.path)) {
      rmSync(e.path, { force: true });
      say(`removed ${e.path}`);
    }
  }
  for (const e of entries) if (!kept.includes(e)) manifest.remove(e.kind, e.path);
  if (systemdRuns()) await systemctlDo('daemon-reload').catch(() => undefined);
  if (purge) {
    rmSync(settings.stateDir, { recursive: true, force: true });
    say(`state: removed ${settings.stateDir} and the network_info cache`);
  } else if (exists(settings.stateDir)) {
    say(`kept ${settings.stateDir} (the network_info cache; --uninstall --purge removes it)`);
  }
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The path with every link resolved; itself when it cannot be (gone). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
