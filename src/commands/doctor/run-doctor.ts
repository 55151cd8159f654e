/**
 * Gathers what `doctor` judges (files, /proc, libvirt, systemctl) and runs the checks in the order
 * an operator fixes things: configuration, Node, hook, libvirt, state, cache, services.
 */
import { IpmetaError, SystemError } from '../../errors';
import type { Io } from '../../io';
import type { Domain } from '../../core/domain';
import { CacheStore, type CacheEntry } from '../../adapters/cache-store';
import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings, type SettingFlags, type Settings } from '../../adapters/settings';
import { VirshSession } from '../../adapters/virsh/session';
import { fail, ok, type CheckResult, type DoctorPaths } from './check';
import { checkCache, checkHook, checkHookSeen, checkLibvirtVersion, checkNode, checkPrivateDir, checkServices } from './checks';
import { findHookFiles } from './hook-files';
import { processesOf } from './host-probe';

const DAEMONS = new Set(['libvirtd', 'virtqemud']);
const SERVICE_PROCESSES = new Set(['cron', 'crond', 'node', 'nodejs']);
const VERSION_TIMEOUT_MS = 15_000;

export async function runDoctor(flags: SettingFlags, paths: DoctorPaths, io: Io): Promise<CheckResult[]> {
  let settings: Settings;
  try {
    settings = resolveSettings(flags);
  } catch (err) {
    if (!(err instanceof IpmetaError)) throw err;
    return [fail('config', err.message, 'fix the config file, or point --config at another')];
  }
  const results: CheckResult[] = [ok('config', describeConfig(settings))];
  results.push(checkNode(process.versions.node, process.execPath));

  const hooks = findHookFiles(paths.hooksDir);
  const ours = hooks.find((h) => h.ours);
  results.push(checkHook(paths.hooksDir, hooks));
  results.push(checkLibvirtVersion(await daemonVersion(settings.uri), settings.uri, ours));
  results.push(checkHookSeen(ours, processesOf((comm) => DAEMONS.has(comm), paths.procDir)));

  results.push(checkPrivateDir('state dir', settings.stateDir));
  results.push(checkPrivateDir('cache dir', settings.cacheDir));
  results.push(...checkCache(await domains(settings, io), cacheEntries(settings)));

  results.push(...checkServices(paths, processesOf((comm) => SERVICE_PROCESSES.has(comm), paths.procDir)));
  return results;
}

function describeConfig(s: Settings): string {
  const source = s.ini.size > 0 ? s.configFile : `${s.configFile} (absent or empty: defaults)`;
  return `${source}; libvirt ${s.uri ?? "virsh's default"}, state ${s.stateDir}`;
}

/** The daemon's own version (`virsh version --daemon`), or why it cannot be had. */
async function daemonVersion(uri: string | undefined): Promise<string | Error> {
  const virsh = new VirshSession({ uri, commandTimeoutMs: VERSION_TIMEOUT_MS });
  try {
    const out = await virsh.run(['version', '--daemon']);
    const version = /Running against daemon:\s*(\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1];
    return version ?? new SystemError(`virsh version --daemon printed no daemon version: ${JSON.stringify(out.slice(0, 200))}`);
  } catch (err) {
    return asError(err);
  } finally {
    await virsh.close();
  }
}

async function domains(settings: Settings, io: Io): Promise<Domain[] | Error> {
  try {
    return (await allDomains(settings, io)).map((e) => e.domain);
  } catch (err) {
    return asError(err);
  }
}

function cacheEntries(settings: Settings): CacheEntry[] | Error {
  try {
    return new CacheStore(settings.cacheDir).list();
  } catch (err) {
    return asError(err);
  }
}

/** Our own errors and system errors become a check's text; anything else is a bug and propagates. */
function asError(err: unknown): Error {
  if (err instanceof IpmetaError) return err;
  if (err instanceof Error && 'code' in err) return err;
  throw err;
}
