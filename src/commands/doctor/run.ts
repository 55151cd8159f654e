import { ExitCode, oneLine } from '../../errors';
import type { Io } from '../../io';
import type { SettingFlags } from '../../adapters/settings';
import { HOST_PATHS, type CheckResult } from './check';
import { runDoctor } from './run-doctor';

export interface DoctorArgs extends SettingFlags {
  json: boolean;
  hooksDir?: string;
}

const MARK = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;

export async function run(args: DoctorArgs, io: Io): Promise<number> {
  const results = await runDoctor(args, { ...HOST_PATHS, hooksDir: args.hooksDir ?? HOST_PATHS.hooksDir }, io);
  const healthy = !results.some((r) => r.status === 'fail');
  io.out(args.json ? `${JSON.stringify({ ok: healthy, checks: results }, null, 2)}\n` : formatResults(results));
  return healthy ? ExitCode.ok : ExitCode.drift;
}

/** One line per check: `ok    hook: ...`, and for the others what to do. */
export function formatResults(results: readonly CheckResult[]): string {
  return results
    .map((r) => `${MARK[r.status].padEnd(5)} ${r.check}: ${oneLine(r.detail)}${r.fix === undefined ? '' : `; to fix: ${oneLine(r.fix)}`}\n`)
    .join('');
}
