/** What reconcile did to one domain: the values the report, the metrics and `--check` are made of. */
import type { PortChange } from '../../core/compare';
import type { ReadPort } from '../../core/ports-xml';
import type { Definition, Port } from '../../core/model';

export type OutcomeKind = 'in-sync' | 'repaired' | 'would-repair' | 'no-cache' | 'not-nova' | 'error';
export const OUTCOME_KINDS: readonly OutcomeKind[] = ['in-sync', 'repaired', 'would-repair', 'no-cache', 'not-nova', 'error'];


export interface DomainIdentity {
  readonly domain: string;
  readonly uuid: string;
  readonly projectId?: string | undefined;
}

/** What the domain's (first) definition held when it was read, before any write: for the address history. */
export interface Observed {
  /** nova's name of the instance. */
  readonly name: string | undefined;
  readonly found: readonly (Port | ReadPort)[] | null;
  /** Port id → the MAC it is plugged with, where known. */
  readonly macs: Readonly<Record<string, string>>;
}

/** `ports`: what the domain's (first) definition carries once this run is over, for the metrics. */
export type Outcome = DomainIdentity &
  (
    | { readonly kind: 'in-sync' | 'no-cache'; readonly ports: readonly (Port | ReadPort)[]; readonly observed?: Observed }
    | {
        readonly kind: 'repaired' | 'would-repair';
        readonly changes: Readonly<Partial<Record<Definition, readonly PortChange[]>>>;
        readonly ports: readonly (Port | ReadPort)[];
        readonly observed?: Observed;
      }
    | { readonly kind: 'not-nova' }
    | { readonly kind: 'error'; readonly reason: string }
  );

export function drifted(o: Outcome): boolean {
  return o.kind === 'repaired' || o.kind === 'would-repair';
}

/** `200 domains: 197 in-sync, 3 repaired (0.52 s)`: the last line of a report, and the watcher's log line. */
export function summaryLine(outcomes: readonly Outcome[], durationSeconds: number): string {
  const counts = OUTCOME_KINDS.map((k) => [k, outcomes.filter((o) => o.kind === k).length] as const).filter(([, n]) => n > 0);
  const parts = counts.map(([k, n]) => `${n} ${k}`).join(', ');
  return `${outcomes.length} domain${outcomes.length === 1 ? '' : 's'}${parts ? `: ${parts}` : ''} (${durationSeconds.toFixed(2)} s)`;
}
