import type { SyncResult } from './sync-cache';

/** `3 instances (changes only, 1 asked in full): 1 written, 2 unchanged, 0 failed (7 requests)`, for both commands that sync. */
export function syncSummary(r: SyncResult, dryRun: boolean): string {
  const mode = r.mode === 'full' ? `full: ${r.why ?? ''}` : `changes only, ${r.fetched} asked in full`;
  return `${r.instances} ${r.instances === 1 ? 'instance' : 'instances'} (${mode}): ${r.written.length} ${dryRun ? 'would be written' : 'written'}, ${r.unchanged} unchanged, ${r.failed.length} failed (${r.requests} requests)`;
}
