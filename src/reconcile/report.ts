/** The reconcile report for people (one line per domain, changes port by port) and for machines. */
import { describeChange } from '../core/compare';
import { OUTCOME_KINDS, type Outcome } from './outcome';

export function formatReport(outcomes: readonly Outcome[], durationSeconds: number, orphanCaches: readonly string[] = []): string {
  const lines: string[] = [];
  const width = Math.max(6, ...outcomes.map((o) => o.domain.length));
  for (const o of outcomes) {
    lines.push(`${o.kind.padEnd(12)}  ${o.domain.padEnd(width)}  ${o.uuid}`);
    if (o.kind === 'error') lines.push(`    ${o.reason}`);
    if (o.kind === 'repaired' || o.kind === 'would-repair') {
      const { live, config } = o.changes;
      // The usual case, both definitions needing the same change, reads as one list.
      const same = live && config && JSON.stringify(live) === JSON.stringify(config);
      const groups: [string, typeof live][] = same ? [['both', live]] : [['live', live], ['config', config]];
      for (const [definition, changes] of groups) {
        for (const c of changes ?? []) lines.push(`    ${definition.padEnd(6)}  ${describeChange(c)}`);
      }
    }
  }
  for (const uuid of orphanCaches) lines.push(`orphan        cache file for ${uuid}: no such domain on this host (left alone)`);
  lines.push(summaryLine(outcomes, durationSeconds));
  return `${lines.join('\n')}\n`;
}

export function summaryLine(outcomes: readonly Outcome[], durationSeconds: number): string {
  const counts = OUTCOME_KINDS.map((k) => [k, outcomes.filter((o) => o.kind === k).length] as const).filter(([, n]) => n > 0);
  const parts = counts.map(([k, n]) => `${n} ${k}`).join(', ');
  return `${outcomes.length} domain${outcomes.length === 1 ? '' : 's'}${parts ? `: ${parts}` : ''} (${durationSeconds.toFixed(2)} s)`;
}

export function reportJson(outcomes: readonly Outcome[], durationSeconds: number, orphanCaches: readonly string[] = []) {
  return {
    durationSeconds,
    summary: Object.fromEntries(OUTCOME_KINDS.map((k) => [k, outcomes.filter((o) => o.kind === k).length])),
    domains: outcomes,
    orphanCaches,
  };
}
