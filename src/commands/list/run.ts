import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { INSTANCE_COLUMNS, instanceRows } from '../../cli/instance-rows';
import { formatListing } from '../../cli/output';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const entries = await allDomains(resolveSettings(args), io);
  const instances = entries.filter((e) => e.domain.nova);
  io.out(formatListing(instances.flatMap(instanceRows), INSTANCE_COLUMNS, args));
  // Only for a person at a terminal: scripts get exactly the instances.
  const others = entries.length - instances.length;
  if (io.interactive && others > 0) io.err(`(${others} domain${others === 1 ? '' : 's'} without nova metadata not listed)\n`);
  return ExitCode.ok;
}
