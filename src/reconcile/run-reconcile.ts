/** A reconcile run over many domains through one virsh session; one domain's error never stops the others. */
import type { DomainRef } from '../adapters/virsh/domains';
import { reconcileDomain, type ReconcileContext } from './reconcile-domain';
import type { Outcome } from './outcome';

export type Progress = (done: number, total: number, last: Outcome) => void;

export async function reconcileDomains(ctx: ReconcileContext, refs: readonly DomainRef[], progress?: Progress): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const ref of refs) {
    let outcome: Outcome;
    try {
      outcome = await reconcileDomain(ctx, ref);
    } catch (err) {
      outcome = { domain: ref.name, uuid: ref.uuid, kind: 'error', reason: err instanceof Error ? err.message : String(err) };
    }
    outcomes.push(outcome);
    progress?.(outcomes.length, refs.length, outcome);
  }
  return outcomes;
}
