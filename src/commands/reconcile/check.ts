/**
 * `reconcile --check` as a monitoring plugin (Monitoring Plugins guidelines): one line,
 * `NOVA-IPMETA STATUS - text | perfdata`, and the status as the exit code. The number of drifted
 * instances (a dry run found their XML wrong) is held against the `--warning` and `--critical`
 * ranges, in the guidelines' range syntax; a domain that could not be checked at all is
 * CRITICAL: its XML is unknown.
 */
import { PluginStatus } from '../../exit-code';
import { alerts, type PluginRange } from '../../core/plugin-range';
import { drifted, type Outcome } from '../../usecases/reconcile/outcome';
import type { RunReport } from '../../usecases/reconcile/reconcile-run';

export interface Thresholds {
  readonly warning: PluginRange;
  readonly critical: PluginRange | undefined;
}

const NAMES: Readonly<Record<PluginStatus, string>> = { 0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN' };

export function checkStatus(report: RunReport, t: Thresholds): PluginStatus {
  const c = counts(report.outcomes);
  if (c.errors > 0) return PluginStatus.critical;
  if (t.critical !== undefined && alerts(t.critical, c.drifted)) return PluginStatus.critical;
  if (alerts(t.warning, c.drifted)) return PluginStatus.warning;
  return PluginStatus.ok;
}

export function checkLine(report: RunReport, status: PluginStatus, t: Thresholds): string {
  const c = counts(report.outcomes);
  const text =
    c.errors > 0
      ? `${c.errors} of ${c.instances} instances could not be checked${c.drifted ? `, ${c.drifted} drifted` : ''}`
      : c.drifted > 0
        ? `${c.drifted} of ${c.instances} instances drifted`
        : `${c.instances} instances in sync`;
  const perf = [
    `in_sync=${c.inSync}`,
    `drifted=${c.drifted};${t.warning.text};${t.critical?.text ?? ''};0;${c.instances}`,
    `no_cache=${c.noCache}`,
    `errors=${c.errors}`,
    `not_nova=${c.notNova}`,
    `orphan_caches=${report.orphanCaches.length}`,
    `duration=${report.durationSeconds.toFixed(3)}s`,
  ];
  return `NOVA-IPMETA ${NAMES[status]} - ${text} | ${perf.join(' ')}`;
}

function counts(outcomes: readonly Outcome[]) {
  const of = (k: Outcome['kind']) => outcomes.filter((o) => o.kind === k).length;
  const notNova = of('not-nova');
  return {
    instances: outcomes.length - notNova,
    inSync: of('in-sync'),
    drifted: outcomes.filter(drifted).length,
    noCache: of('no-cache'),
    errors: of('error'),
    notNova,
  };
}
