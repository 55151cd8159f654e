import { NotFoundError } from '../../errors';
import { MATCH_WORDS, matchDomain, noMatchMessage, parseTerm, termKey, type MatchKind } from '../../core/lookup';
import { allDomains } from '../../adapters/domain-inventory';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { INSTANCE_COLUMNS, type InstanceRow } from '../../cli/instance-rows';
import { formatListing, listingFormat, printable } from '../../cli/output';
import { mayHoldTerm } from '../../core/may-hold';
import type { Io } from '../../io';
import type { Args } from './command';

export async function run(args: Args, io: Io): Promise<ExitCode> {
  const term = parseTerm(args.what, 'address');
  const entries = await allDomains(resolveSettings(args), io, { mayMatch: mayHoldTerm(term), indexKey: termKey(term) });
  const rows: InstanceRow[] = [];
  const taken = new Set<MatchKind>();
  for (const { domain, definition } of entries) {
    const match = matchDomain(domain, term);
    if (!match) continue;
    taken.add(match.as);
    rows.push(...match.rows.map((r) => ({ ...r, definition })));
  }
  // An address is an address; anything else says what it was taken for (a UUID may be a port's or an instance's).
  if (term.kind !== 'address' && taken.size > 0) {
    io.err(`nova-ipmeta: find: ${printable(args.what)}: ${[...taken].map((k) => MATCH_WORDS[k]).join(', ')}\n`);
  }
  // An empty result is still a valid document for a program; the table prints nothing.
  if (rows.length > 0 || listingFormat(args) !== 'table') io.out(formatListing(rows, INSTANCE_COLUMNS, args));
  // Like grep: "not found" is 1, distinct from 2 (bad address) and 3 (cannot read).
  if (rows.length === 0) throw new NotFoundError(noMatchMessage(term));
  return ExitCode.ok;
}
