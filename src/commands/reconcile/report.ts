/** The reconcile report for people (one line per domain, changes port by port) and for machines. */
import { describeChange } from '../../core/compare';
import { printable } from '../../cli/output';
import { portsJson } from '../../cli/ports-json';
import { OUTCOME_KINDS, summaryLine } from '../../usecases/reconcile/outcome';
import type { RunReport } from '../../usecases/reconcile/reconcile-run';

export function formatReport(report: RunReport): string {
  const lines: string[] = [];
  const width = Math.max(6, ...report.outcomes.map((o) => o.domain.length));
  for (const o of report.outcomes) {
    lines.push(printable(`${o.kind.padEnd(12)}  ${o.domain.padEnd(width)}  ${o.uuid}`));
    if (o.kind === 'error') lines.push(`    ${printable(o.reason)}`);
    if (o.kind === 'repaired' || o.kind === 'would-repair') {
      const { live, persistent } = o.changes;
      // The usual case, both definitions needing the same change, reads as one list.
      const same = live && persistent && JSON.stringify(live) === JSON.stringify(persistent);
      const groups: [string, typeof live][] = same ? [['both', live]] : [['live', live], ['persistent', persistent]];
      for (const [definition, changes] of groups) {
        for (const c of changes ?? []) lines.push(`    ${definition.padEnd(10)}  ${describeChange(c)}`);
      }
    }
  }
  for (const uuid of report.orphanCaches) lines.push(`orphan        cache file for ${uuid}: no such domain on this host (left alone)`);
  lines.push(summaryLine(report.outcomes, report.durationSeconds));
  return `${lines.join('\n')}\n`;
}

/** The JSON document of `reconcile --json`: the same words as the report, versions as numbers. */
export function reportJson(report: RunReport) {
  return {
    durationSeconds: report.durationSeconds,
    libvirtCommands: report.libvirtCommands,
    decidedFromFiles: report.decidedFromFiles,
    rememberedInSync: report.rememberedInSync ?? 0,
    ...(report.filesNotUsed === undefined ? {} : { filesNotUsed: report.filesNotUsed }),
    summary: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, report.outcomes.filter((o) => o.kind === k).length])),
    domains: report.outcomes.map((o) => ('ports' in o ? { ...o, ports: portsJson(o.ports) } : o)),
    orphanCaches: report.orphanCaches,
  };
}
