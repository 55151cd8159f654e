import { InputError, quote } from '../../errors';
import { parseIp } from '../../core/ip';
import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings, type SettingFlags } from '../../adapters/settings';
import { formatRows, instanceRows, outputFormat } from '../list/rows';
import { mayHoldAddress } from './may-hold';
import type { Io } from '../../io';

export async function run(args: SettingFlags & { address: string; json: boolean; csv: boolean }, io: Io): Promise<number> {
  const format = outputFormat(args);
  const target = parseIp(args.address);
  if (!target) throw new InputError('address', `${quote(args.address)} is not an IP address`);
  const entries = await allDomains(resolveSettings(args), io, { mayMatch: mayHoldAddress(target) });
  const rows = entries.flatMap(instanceRows).filter((r) => r.address === target.address);
  // An empty result is still a valid document for a program; the table prints nothing.
  if (rows.length > 0 || format !== 'table') io.out(formatRows(rows, format));
  if (rows.length > 0) return 0;
  // Like grep: 1 is "not found", distinct from 2 (bad address) and 3 (cannot read).
  io.err(`nova-ipmeta: no instance on this host holds ${target.address}\n`);
  return 1;
}

