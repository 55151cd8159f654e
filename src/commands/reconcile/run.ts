import { lstatSync, type Stats } from 'node:fs';
import { InputError, UsageError, isExpectedFailure, messageOf } from '../../errors';
import type { Io } from '../../io';
import { writeFileAtomic } from '../../adapters/atomic-file';
import { errnoCode, systemFailure } from '../../adapters/os-error';
import { resolveSettings, type Settings } from '../../adapters/settings';
import { readStateFile, writeStateFile } from '../../adapters/state-file';
import { parsePluginRange, type PluginRange } from '../../core/plugin-range';
import { ExitCode } from '../../exit-code';
import { LAST_RUN_FILE, LAST_RUN_MAX_BYTES, parseRunRecord, recordRun, runSucceeded, type RunFacts, type SyncFacts } from '../../usecases/reconcile/metrics';
import { checkLine, checkStatus, type Thresholds } from './check';
import { formatReport, reportJson } from './report';
import { reconcileRun, type RunReport } from '../../usecases/reconcile/reconcile-run';
import type { Args } from './command';

const DEFAULT_WAIT_S = 300;
/** A check finishes within its caller's timeout (NRPE's default is 10 s): a short wait for the lock. */
const CHECK_WAIT_S = 5;

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const thresholds = args.check ? checkOptions(args) : undefined;
  const waitS = args.wait ?? (args.check ? CHECK_WAIT_S : DEFAULT_WAIT_S);
  if (!(waitS >= 0)) throw new InputError('--wait', 'must be a number of seconds, 0 or more');
  // The metrics describe the whole host: a run over some domains (the hook's) records nothing.
  if (args.textfile !== undefined && args.domain.length > 0) throw new UsageError('--textfile describes every domain: not with --domain', 'reconcile');
  const settings = resolveSettings(args);
  if (args.textfile !== undefined) checkTextfileTarget(args.textfile);
  const started = Date.now();
  // Outside the run lock: a slow Neutron must never keep the domains from being reconciled.
  const sync = args.sync || args.autoSync ? await syncFirst(settings, args, io) : undefined;
  let report: RunReport;
  try {
    report = await reconcileRun({
      settings,
      domains: args.domain,
      dryRun: args.dryRun || args.check,
      lockWaitMs: waitS * 1000,
      progress: (done, total, last) => {
        if (io.interactive && !args.check) io.err(`\rreconcile ${done}/${total} ${last.domain} ${last.kind}\x1b[K${done === total ? '\n' : ''}`);
      },
      warn: (line) => {
        io.err(`nova-ipmeta: warning: ${line}\n`);
      },
    });
  } catch (err) {
    // Libvirt down, the lock busy: the metrics say so too, then the error is reported as usual.
    if (recordsMetrics(args)) {
      try {
        await writeMetrics(settings, args, { finishedAt: now(), durationSeconds: (Date.now() - started) / 1000, ...(sync ? { sync } : {}) }, io);
      } catch (metricsErr) {
        if (!isExpectedFailure(metricsErr)) throw metricsErr;
        io.err(`nova-ipmeta: ${messageOf(metricsErr)}\n`);
      }
    }
    throw err;
  }
  if (thresholds) {
    const status = checkStatus(report, thresholds);
    io.out(`${checkLine(report, status, thresholds)}\n`);
    return status;
  }
  if (recordsMetrics(args)) {
    await writeMetrics(settings, args, {
      finishedAt: now(),
      durationSeconds: report.durationSeconds,
      outcomes: report.outcomes,
      orphanCaches: report.orphanCaches.length,
      ...(report.oldestCacheWrite === undefined ? {} : { oldestCacheWrite: report.oldestCacheWrite }),
      ...(sync ? { sync } : {}),
    }, io);
  }
  io.out(args.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatReport(report));
  return !runSucceeded(report.outcomes) || (typeof sync === 'object' && !sync.success) ? ExitCode.failure : ExitCode.ok;
}

/**
 * A check writes nothing and prints one line (Monitoring Plugins guidelines): the options that
 * would write or print something else are refused (UNKNOWN, as every usage error of a check).
 */
function checkOptions(args: Args): Thresholds {
  for (const [given, name] of [
    [args.textfile !== undefined, '--textfile'],
    [args.sync, '--sync'],
    [args.autoSync, '--auto-sync'],
    [args.json, '--json'],
  ] as const) {
    if (given) throw new UsageError(`--check writes nothing and prints one line: not with ${name}`, 'reconcile');
  }
  const range = (name: string, text: string): PluginRange => {
    const r = parsePluginRange(text);
    if (typeof r === 'string') throw new UsageError(`--${name}: ${r}`, 'reconcile');
    return r;
  };
  return { warning: range('warning', args.warning), critical: args.critical === undefined ? undefined : range('critical', args.critical) };
}

/** Only a run over every domain that writes (not a check, not a dry run) is the host's last run; a dry run writes its textfile only when asked. */
function recordsMetrics(args: Args): boolean {
  return !args.check && args.domain.length === 0 && (!args.dryRun || args.textfile !== undefined);
}

const now = () => Math.round(Date.now() / 1000);

/** `cache sync` (with --auto-sync only when credentials are found): what it told (failures are said on stderr). */
async function syncFirst(settings: Settings, args: Args, io: Io): Promise<SyncFacts | 'unconfigured'> {
  const dryRun = args.dryRun || args.check;
  // Loaded on use: a run without a sync (most of them, wherever credentials are not found) does without it.
  const { credentialSource, syncCache } = await import('../../usecases/sync/sync-cache');
  const { syncSummary } = await import('../../usecases/sync/summary');
  try {
    if (!args.sync && credentialSource(settings, args) === undefined) return 'unconfigured';
    const r = await syncCache(settings, args, io, { dryRun });
    if (!args.json && !args.check) io.err(`nova-ipmeta: cache sync: ${syncSummary(r, dryRun)}\n`);
    for (const f of r.failed) io.err(`nova-ipmeta: cache sync: ${f.uuid}: ${f.error}\n`);
    return { success: r.failed.length === 0, finishedAt: now(), instances: { written: r.written.length, unchanged: r.unchanged, failed: r.failed.length } };
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    io.err(`nova-ipmeta: ${messageOf(err)}\n`);
    return { success: false, finishedAt: now() };
  }
}

/**
 * The run's record, from what it knew and the previous record (for the last successes), kept in
 * the state directory unless this is a dry run, and written to the textfile when asked. Losing
 * the record (a read-only state directory) costs only the carry-over: said, not fatal.
 */
async function writeMetrics(settings: Settings, args: Args, facts: RunFacts, io: Io): Promise<void> {
  let previousText: string | undefined;
  try {
    previousText = readStateFile(settings.stateDir, LAST_RUN_FILE, LAST_RUN_MAX_BYTES);
  } catch {
    // unreadable or untrusted: nothing to carry over; writing a new one replaces it
  }
  const record = recordRun(facts, previousText === undefined ? undefined : parseRunRecord(previousText));
  if (!args.dryRun) {
    try {
      writeStateFile(settings.stateDir, LAST_RUN_FILE, `${JSON.stringify(record)}\n`);
    } catch (err) {
      if (!isExpectedFailure(err)) throw err;
      io.err(`nova-ipmeta: the last run's record not kept: ${messageOf(err)}\n`);
    }
  }
  if (args.textfile === undefined) return;
  const { formatMetrics } = await import('../../usecases/reconcile/metrics-exposition');
  writeFileAtomic(args.textfile, await formatMetrics(record), { mode: 0o644 });
}

/**
 * The metrics file is replaced by rename: a symbolic link, a FIFO or a device there (/dev/zero)
 * would be replaced too, so only a regular file, or nothing, may be at that path.
 */
function checkTextfileTarget(path: string): void {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw systemFailure('check', path, err);
  }
  if (!stats.isFile()) throw new InputError('--textfile', `${path} exists and is not a regular file (a ${stats.isSymbolicLink() ? 'symbolic link' : 'special file'}): it would be replaced`);
}
