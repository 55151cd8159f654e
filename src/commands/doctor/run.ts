import { isExpectedFailure, messageOf, oneLine } from '../../errors';
import type { Io } from '../../io';
import { resolveSettings, type Settings } from '../../adapters/settings';
import { BUILD } from '../../build-info';
import { ExitCode } from '../../exit-code';
import { jsonText } from '../../cli/output';
import {
  checkCache,
  checkCodeCache,
  checkConfig,
  checkDaemon,
  checkHook,
  checkHookSeen,
  checkLibvirtVersion,
  checkNode,
  checkPrivateDir,
  checkServices,
  daemonAdvice,
  fail,
  watcherRuns,
  type CheckResult,
} from './checks';
import { HOST_PATHS, isExecutableFile, observe, type DoctorPaths } from './observe';
import { checkCredentials } from './credentials';
import type { Args } from './command';

const MARK = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const results = await diagnose(args, { ...HOST_PATHS, hooksDir: args.hooksDir ?? HOST_PATHS.hooksDir }, io);
  const healthy = !results.some((r) => r.status === 'fail');
  io.out(args.json ? `${jsonText({ ok: healthy, checks: results })}\n` : formatResults(results));
  return healthy ? ExitCode.ok : ExitCode.negative;
}

export async function diagnose(flags: Args, paths: DoctorPaths, io: Io): Promise<CheckResult[]> {
  let settings: Settings;
  try {
    settings = resolveSettings(flags);
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    return [fail('config', messageOf(err), 'fix the config file, or point --config at another')];
  }
  const seen = await observe(settings, paths, io);
  const ours = seen.hooks.find((h) => h.ours);
  // A daemon of this system comes first: a stray one in a container is then not the one asked.
  const advice = daemonAdvice(seen.daemons.length > 0 ? [] : seen.daemonsElsewhere, seen.systemd);
  return [
    checkConfig(settings.configFile, settings.ini, seen.configFile, describeConfig(settings)),
    checkCredentials(settings),
    checkNode(process.versions.node, process.execPath, BUILD?.nodeMinimum),
    checkCodeCache(seen.codeCache, process.execPath),
    checkDaemon(seen.daemons, seen.daemonsElsewhere, seen.systemd),
    checkHook(paths.hooksDir, seen.hooks, isExecutableFile, { noHookFile: seen.noHookFile, containerized: seen.daemons.length === 0 && seen.daemonsElsewhere.length > 0 }),
    checkLibvirtVersion(seen.daemonVersion, settings.uri, ours, seen.libvirtRoute, advice),
    checkHookSeen(ours, {
      daemons: seen.daemons,
      elsewhere: seen.daemonsElsewhere,
      watcherActive: watcherRuns(seen.services),
      systemd: seen.systemd,
      initScript: (d) => seen.initScripts.has(d),
      qemuDHeldSince: seen.qemuDHeldSince,
      noHookFile: seen.noHookFile,
    }),
    checkPrivateDir('state dir', settings.stateDir, seen.stateDir),
    checkPrivateDir('cache dir', settings.cacheDir, seen.cacheDir),
    ...checkCache(seen.domains, seen.cache, advice),
    ...checkServices(seen.services),
  ];
}

function describeConfig(s: Settings): string {
  const source = s.ini.size > 0 ? s.configFile : `${s.configFile} (absent or empty: defaults)`;
  return `${source}; libvirt ${s.uri ?? "virsh's default"}, state ${s.stateDir}`;
}

/** One line per check: `ok    hook: ...`, and for the others what to do. */
export function formatResults(results: readonly CheckResult[]): string {
  return results
    .map((r) => `${MARK[r.status].padEnd(5)} ${r.check}: ${oneLine(r.detail)}${r.fix === undefined ? '' : `; to fix: ${oneLine(r.fix)}`}\n`)
    .join('');
}
