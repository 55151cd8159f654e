import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { syncCache } from '../../usecases/sync/sync-cache';
import { syncSummary } from '../../usecases/sync/summary';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const r = await syncCache(resolveSettings(args), args, io, { dryRun: args.dryRun, full: args.full });
  if (args.json) io.out(`${JSON.stringify(r)}\n`);
  else {
    io.out(`synced ${syncSummary(r, args.dryRun)}\n`);
    for (const f of r.failed) io.err(`nova-ipmeta: cache sync: ${f.uuid}: ${f.error}\n`);
  }
  return r.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
}
