/** systemd's word on a unit, and whether systemd runs at all (sd_booted: /run/systemd/system exists). */
import { existsSync } from 'node:fs';
import { messageOf } from '../../errors';
import { runProcess } from '../process';

export const SYSTEMD_RUN_DIR = '/run/systemd/system';

export function systemdRuns(runDir = SYSTEMD_RUN_DIR): boolean {
  return existsSync(runDir);
}

export type UnitQuery = 'is-active' | 'is-enabled';

/** systemctl's one-word answer (`active`, `inactive`, `enabled`, `not-found`...), or why there is none. */
export async function systemctl(query: UnitQuery, unit: string): Promise<string> {
  try {
    const r = await runProcess(['systemctl', query, unit], { timeoutMs: 10_000, allowFailure: true });
    const word = r.stdout.trim().split('\n')[0] ?? '';
    return word === '' ? (r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode ?? '?'}`) : word;
  } catch (err) {
    return `systemctl failed: ${messageOf(err)}`;
  }
}

/** Runs `systemctl ARGS...`; a failure is a SystemError naming the command and what systemctl said. */
export async function systemctlDo(...args: string[]): Promise<void> {
  await runProcess(['systemctl', ...args], { timeoutMs: 120_000 });
}
