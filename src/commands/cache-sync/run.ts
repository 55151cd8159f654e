import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { syncCache } from '../../usecases/sync/sync-cache';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const r = await syncCache(resolveSettings(args), args, io, { dryRun: args.dryRun });
  if (args.json) io.out(`${JSON.stringify(r)}\n`);
  else {
    const verb = args.dryRun ? 'would be written' : 'written';
    io.out(`synced ${r.instances} ${r.instances === 1 ? 'instance' : 'instances'} from Neutron: ${r.written.length} ${verb}, ${r.unchanged} unchanged, ${r.failed.length} failed (${r.requests} requests)\n`);
    for (const f of r.failed) io.err(`nova-ipmeta: cache sync: ${f.uuid}: ${f.error}\n`);
  }
  return r.failed.length > 0 ? ExitCode.failure : ExitCode.ok;
}
