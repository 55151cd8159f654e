/** Whether a flock(1) is waiting on a lock file: how a test knows a run is blocked on a lock it holds. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A `flock --wait` whose fd 3 is `lockPath` (how adapters/run-lock.ts hands it the file). */
export function flockWaitingOn(lockPath: string): boolean {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--wait') && readlinkSync(`/proc/${pid}/fd/3`) === lockPath) return true;
    } catch {
      // gone meanwhile, or not ours to look at
    }
  }
  return false;
}

/** Polls until such a flock waits; throws `what` when none does within `timeoutMs`. */
export async function untilFlockWaits(lockPath: string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!flockWaitingOn(lockPath)) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
