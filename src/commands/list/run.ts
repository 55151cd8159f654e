import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import { formatRows, instanceRows, outputFormat } from './rows';
import type { Io } from '../../io';

export async function run(args: SettingFlags & { json: boolean; csv: boolean }, io: Io): Promise<number> {
  const format = outputFormat(args);
  const entries = await allDomains(resolveSettings(args), io);
  const instances = entries.filter((e) => e.domain.nova);
  io.out(formatRows(instances.flatMap(instanceRows), format));
  // Only for a person at a terminal: scripts get exactly the instances.
  const others = entries.length - instances.length;
  if (io.interactive && others > 0) io.err(`(${others} domain${others === 1 ? '' : 's'} without nova metadata not listed)\n`);
  return 0;
}

