import { readFileSync } from 'node:fs';
import { InputError, isExpectedFailure, messageOf } from '../../errors';
import type { Io } from '../../io';
import { writeFileAtomic } from '../../adapters/atomic-file';
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

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const waitS = args.wait ?? (args.check ? CHECK_WAIT_S : DEFAULT_WAIT_S);
  if (!(waitS >= 0)) throw new InputError('--wait', 'must be a number of seconds, 0 or more');
  const settings = resolveSettings(args);
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

function writeMetrics(path: string, report: RunReport): void {
  let before: string | undefined;
  try {
    before = readFileSync(path, 'utf8');
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
