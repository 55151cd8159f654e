/**
 * `nova-ipmeta history WHAT`: the intervals during which each instance held an address (or a
 * port, or a MAC) on this host, from the address history (docs/design.md, "The address history").
 * The log is searched on its raw bytes for the one key/value pair that designates WHAT, so only
 * the lines holding it are parsed.
 */
import { InputError, NotFoundError, UsageError, quote } from '../../errors';
import { inWindow, intervalsOf, parseRecord, type HistoryRecord, type Interval, type TimeWindow } from '../../core/history';
import { parseTerm } from '../../core/lookup';
import { formatTime, parseTimeSpec } from '../../core/time-spec';
import { historyDir, scanHistory } from '../../adapters/history-log';
import { resolveSettings } from '../../adapters/settings';
import { ExitCode } from '../../exit-code';
import { formatListing, listingFormat, type Column } from '../../cli/output';
import type { Io } from '../../io';
import type { Args } from './command';

export const HISTORY_COLUMNS: readonly Column<Interval>[] = [
  { key: 'domain', header: 'DOMAIN', value: (i) => i.domain },
  { key: 'instanceId', header: 'INSTANCE', value: (i) => i.instance },
  { key: 'name', header: 'NAME', value: (i) => i.name },
  { key: 'projectId', header: 'PROJECT', value: (i) => i.project, inTable: false },
  { key: 'portId', header: 'PORT', value: (i) => i.port },
  { key: 'mac', header: 'MAC', value: (i) => i.mac, inTable: false },
  { key: 'address', header: 'ADDRESS', value: (i) => i.address },
  { key: 'type', header: 'TYPE', value: (i) => i.type },
  { key: 'ipVersion', header: 'VERSION', value: (i) => i.version, inTable: false },
  { key: 'from', header: 'FROM', value: (i) => formatTime(new Date(i.from)) },
  { key: 'until', header: 'UNTIL', value: (i) => (i.until === null ? null : formatTime(new Date(i.until))) },
  { key: 'addedBy', header: 'ADDED_BY', value: (i) => i.addedBy, inTable: false },
  { key: 'removedBy', header: 'REMOVED_BY', value: (i) => i.removedBy, inTable: false },
];

export function run(args: Args, io: Io): Promise<ExitCode> {
  const query = queryOf(args.what);
  const window = timeWindow(args, new Date());
  listingFormat(args);
  const dir = historyDir(resolveSettings(args).stateDir);
  const records: HistoryRecord[] = [];
  const scan = scanHistory(dir, Buffer.from(query.needle, 'utf8'), (line) => {
    const r = parseRecord(line);
    if (r && query.matches(r)) records.push(r);
    return r !== undefined;
  });
  if (!scan) throw new NotFoundError(`no address history in ${dir} yet (reconcile and the watcher record it)`);
  if (scan.damaged > 0) io.err(`nova-ipmeta: warning: ${scan.damaged} damaged line${scan.damaged === 1 ? '' : 's'} in ${dir} skipped\n`);
  const rows = intervalsOf(records).filter((i) => inWindow(i, window));
  if (rows.length > 0 || listingFormat(args) !== 'table') io.out(formatListing(rows, HISTORY_COLUMNS, args));
  if (rows.length === 0) throw new NotFoundError(`no instance held ${query.value} on this host${windowText(window)}`);
  return Promise.resolve(ExitCode.ok);
}

interface Query {
  readonly value: string;
  /** The bytes every line that may match holds, as the writer spells them (canonical, lower case). */
  readonly needle: string;
  readonly matches: (r: HistoryRecord) => boolean;
}

function queryOf(what: string): Query {
  const term = parseTerm(what, 'address');
  switch (term.kind) {
    case 'address':
      return { value: term.ip.address, needle: `"address":"${term.ip.address}"`, matches: (r) => r.address === term.ip.address };
    case 'mac':
      return { value: term.mac, needle: `"mac":"${term.mac}"`, matches: (r) => r.mac === term.mac };
    case 'uuid':
      // A port's, or an instance's: every address it held.
      return { value: term.uuid, needle: `"${term.uuid}"`, matches: (r) => r.port === term.uuid || r.instance === term.uuid };
    case 'text':
      throw new InputError('address', `${quote(what)} is not an IP address, a MAC, a port UUID or an instance UUID`);
  }
}

function timeWindow(args: Args, now: Date): TimeWindow {
  const time = (option: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const t = parseTimeSpec(text, now);
    if (!t) throw new InputError(`--${option}`, `${quote(text)} is not a time (ISO 8601 such as 2026-11-30T03:12:00Z, @UNIX-SECONDS, now, today, yesterday, 2h ago, -90m)`);
    return t;
  };
  const at = time('at', args.at);
  const since = time('since', args.since);
  const until = time('until', args.until);
  if (at && (since || until)) throw new UsageError('--at excludes --since and --until', 'history');
  if (since && until && since > until) throw new InputError('--since', `${formatTime(since)} is after --until ${formatTime(until)}`);
  return { ...(at ? { at } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

function windowText(w: TimeWindow): string {
  if (w.at) return ` at ${formatTime(w.at)}`;
  if (w.since && w.until) return ` from ${formatTime(w.since)} to ${formatTime(w.until)}`;
  if (w.since) return ` since ${formatTime(w.since)}`;
  if (w.until) return ` until ${formatTime(w.until)}`;
  return '';
}
