/**
 * The libvirt daemon of this system (the monolithic libvirtd, or the modular virtqemud): which
 * runs, which version is installed, and how it is restarted, by systemd or an init script.
 */
import { existsSync } from 'node:fs';
import { SystemError, messageOf } from '../../errors';
import { runProcess } from '../process';
import { processesOf, type HostProcess } from './processes';
import { systemctl, systemdRuns } from './systemd';

export const DAEMON_NAMES = ['libvirtd', 'virtqemud'] as const;

/** The libvirt daemons that run in this system's mount namespace (a container's are not this system's). */
export function libvirtDaemons(procDir = '/proc'): HostProcess[] {
  return processesOf((comm) => (DAEMON_NAMES as readonly string[]).includes(comm), procDir);
}

/** The version of the libvirt installed here: a daemon's own word first, the client's when no daemon is installed. */
export async function installedLibvirtVersion(): Promise<string | undefined> {
  for (const program of [...DAEMON_NAMES, 'virsh']) {
    try {
      const r = await runProcess([program, '--version'], { timeoutMs: 15_000 });
      const version = /(\d+\.\d+(?:\.\d+)?)\s*$/.exec(r.stdout.trim())?.[1];
      if (version) return version;
    } catch {
      // not installed, or not answering: the next one
    }
  }
  return undefined;
}

/** The command that restarts `daemon` here (argv), for a message or to run: systemd's, an init script's, or words. */
export function restartCommand(daemon: string, how: { readonly systemd: boolean; readonly initScript: boolean }): string[] {
  if (how.systemd) return ['systemctl', 'restart', daemon];
  if (how.initScript) return ['service', daemon, 'restart'];
  return [`restart ${daemon} (stop it and start it again)`];
}

/** How this host restarts `daemon`. */
export function restartCommandHere(daemon: string): string[] {
  return restartCommand(daemon, { systemd: systemdRuns(), initScript: existsSync(`/etc/init.d/${daemon}`) });
}

/** Restarts whichever daemon is active; running guests keep running. Returns what it did, for the installer's output. */
export async function restartLibvirt(): Promise<string> {
  const systemd = systemdRuns();
  for (const daemon of DAEMON_NAMES) {
    const active = systemd ? (await systemctl('is-active', `${daemon}.service`)) === 'active' : existsSync(`/etc/init.d/${daemon}`) && libvirtDaemons().some((d) => d.comm === daemon);
    if (!active) continue;
    const argv = restartCommandHere(daemon);
    try {
      await runProcess(argv, { timeoutMs: 120_000 });
    } catch (err) {
      throw new SystemError(`${argv.join(' ')} failed: ${messageOf(err)}`);
    }
    return `libvirt: restarted ${daemon}; it runs the hook from now on (the reconnect hook fills running guests' ports)`;
  }
  if (!systemd && libvirtDaemons().length > 0) throw new SystemError('cannot restart libvirt here (no systemd, no init script): restart libvirtd yourself; running guests keep running');
  return 'libvirt: neither libvirtd nor virtqemud runs: the hook takes effect when one starts';
}
