import { InputError, NotFoundError, quote } from '../../errors';
import { parseIp } from '../../core/ip';
import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { INSTANCE_COLUMNS, instanceRows } from '../../cli/instance-rows';
import { formatListing, listingFormat } from '../../cli/output';
import { mayHoldAddress } from './may-hold';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const target = parseIp(args.address);
  if (!target) throw new InputError('address', `${quote(args.address)} is not an IP address`);
  const entries = await allDomains(resolveSettings(args), io, { mayMatch: mayHoldAddress(target) });
  const rows = entries.flatMap(instanceRows).filter((r) => r.address === target.address);
  // An empty result is still a valid document for a program; the table prints nothing.
  if (rows.length > 0 || listingFormat(args) !== 'table') io.out(formatListing(rows, INSTANCE_COLUMNS, args));
  // Like grep: "not found" is 1, distinct from 2 (bad address) and 3 (cannot read).
  if (rows.length === 0) throw new NotFoundError(`no instance on this host holds ${target.address}`);
  return ExitCode.ok;
}
