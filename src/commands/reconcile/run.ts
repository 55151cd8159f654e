import { lstatSync, type Stats } from 'node:fs';
import { InputError, isExpectedFailure, messageOf } from '../../errors';
import type { Io } from '../../io';
import { writeFileAtomic } from '../../adapters/atomic-file';
import { readRegularFile } from '../../adapters/file-read';
import { errnoCode, systemFailure } from '../../adapters/os-error';
import { resolveSettings, type Settings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { formatMetrics, previousSuccess, runSucceeded } from '../../usecases/reconcile/metrics';
import { checkLine, checkStatus } from './check';
import { formatReport, reportJson } from './report';
import { reconcileRun, type RunReport } from '../../usecases/reconcile/reconcile-run';
import { syncCache } from '../../usecases/sync/sync-cache';
import type { Args } from './command';

const DEFAULT_WAIT_S = 300;
/** A check finishes within its caller's timeout (NRPE's default is 10 s): a short wait for the lock. */
const CHECK_WAIT_S = 5;
/** Far more than the metrics of any host (one line per address); what is larger is not ours. */
const PREVIOUS_METRICS_MAX_BYTES = 16 * 1024 * 1024;

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const waitS = args.wait ?? (args.check ? CHECK_WAIT_S : DEFAULT_WAIT_S);
  if (!(waitS >= 0)) throw new InputError('--wait', 'must be a number of seconds, 0 or more');
  const settings = resolveSettings(args);
  if (args.textfile !== undefined) checkTextfileTarget(args.textfile);
  // Outside the run lock: a slow Neutron must never keep the domains from being reconciled.
  const syncFailed = args.sync ? await syncFirst(settings, args, io) : false;
  const report = await reconcileRun({
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
  if (args.textfile) writeMetrics(args.textfile, report);
  if (args.check) {
    const status = checkStatus(report, { warning: args.warning, critical: args.critical });
    io.out(`${checkLine(report, status, { warning: args.warning, critical: args.critical })}\n`);
    return status;
  }
  io.out(args.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatReport(report));
  return !runSucceeded(report.outcomes) || syncFailed ? ExitCode.failure : ExitCode.ok;
}

/** `cache sync`; true when it failed (said on stderr). */
async function syncFirst(settings: Settings, args: Args, io: Io): Promise<boolean> {
  const dryRun = args.dryRun || args.check;
  try {
    const r = await syncCache(settings, args, io, { dryRun });
    if (!args.json && !args.check) io.err(`nova-ipmeta: cache sync: ${r.written.length} ${dryRun ? 'would be written' : 'written'}, ${r.unchanged} unchanged, ${r.failed.length} failed\n`);
    for (const f of r.failed) io.err(`nova-ipmeta: cache sync: ${f.uuid}: ${f.error}\n`);
    return r.failed.length > 0;
  } catch (err) {
    if (!isExpectedFailure(err)) throw err;
    io.err(`nova-ipmeta: ${messageOf(err)}\n`);
    return true;
  }
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

function writeMetrics(path: string, report: RunReport): void {
  let before: string | undefined;
  try {
    // The file the last run wrote: a regular file of ours, never through a link, a FIFO or a device.
    before = readRegularFile(path, { maxBytes: PREVIOUS_METRICS_MAX_BYTES, noFollow: true }).toString('utf8');
  } catch {
    // first run, or unreadable: no earlier success to carry over
  }
  const text = formatMetrics({
    outcomes: report.outcomes,
    durationSeconds: report.durationSeconds,
    finishedAt: Math.round(Date.now() / 1000),
    previousSuccess: before === undefined ? undefined : previousSuccess(before),
    orphanCaches: report.orphanCaches.length,
  });
  writeFileAtomic(path, text, { mode: 0o644 });
}
