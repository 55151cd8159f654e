/**
 * The address history (docs/design.md, "The address history"): which instance held which
 * address on this host, and when. Pure: the records and their text, the state the writers keep
 * to tell what changed, the changes a reconcile outcome makes, and the intervals a query prints.
 *
 * A record is one line of JSON, one address added to or removed from one instance's ports:
 *
 *   {"time":"2026-11-30T03:12:09.118Z","event":"added","by":"repair","domain":"instance-0000002b",
 *    "instance":"0c1d…","name":"db-1","project":"f241…","port":"567a…","mac":"fa:16:3e:5b:1c:09",
 *    "address":"11.22.33.44","type":"floating","version":4}
 *
 * `held` records open a log file after rotation: the addresses held at that moment, with the
 * time (`since`) and the way (`by`) their holding began, so an interval outlives the file that
 * recorded its start. Keys come in a fixed order and values in canonical form (lower-case ids,
 * canonical addresses), so a reader can look for `"address":"11.22.33.44"` in the raw bytes and
 * parse only the lines that hold it.
 */
import { deviceMatchesPort } from './desired';
import { parseIp, type IpAddress, type IpVersion } from './ip';
import { parseMac, parseUuid, type DomainInterface, type IpType, type Mac, type Uuid, type Vif } from './model';

export type HistoryEvent = 'added' | 'removed' | 'held';

/**
 * What saw the change:
 * - `seed`: held when the history began (the first run on a host, or an instance first seen
 *   before a run over every domain completed): held at least since then;
 * - `repair`: nova-ipmeta wrote it (or removed it) while reconciling the domain;
 * - `found`: already so in the domain XML when read: nova's own write, the hook's
 *   migrate/restore filter, a hand edit;
 * - `gone`: the instance is no longer a domain on this host (deleted, migrated away).
 */
export type SeenBy = 'seed' | 'repair' | 'found' | 'gone';
const SEEN_BY: readonly SeenBy[] = ['seed', 'repair', 'found', 'gone'];

/** One address of one port, as the history keeps it. */
export interface HeldAddress {
  readonly port: Uuid;
  readonly mac: Mac | null;
  readonly address: IpAddress;
  readonly type: IpType;
  readonly version: IpVersion;
}

/** An address held now, with when and how its holding began. */
export interface Holding extends HeldAddress {
  readonly since: string;
  readonly by: SeenBy;
}

export interface InstanceIdentity {
  readonly domain: string;
  /** nova's name of the instance (`<nova:name>`). */
  readonly name: string | null;
  readonly project: string | null;
}

export interface InstanceState extends InstanceIdentity {
  readonly addresses: readonly Holding[];
}

/** What the writers last recorded: each instance's addresses. */
export interface HistoryState {
  /** A run over every domain has been recorded: an instance first seen from now on is new, not seed. */
  readonly complete: boolean;
  readonly instances: ReadonlyMap<Uuid, InstanceState>;
}

export const EMPTY_STATE: HistoryState = { complete: false, instances: new Map() };

export interface HistoryRecord extends HeldAddress, InstanceIdentity {
  readonly time: string;
  readonly event: HistoryEvent;
  readonly by: SeenBy;
  readonly instance: Uuid;
  /** `held` records only: when the holding began. */
  readonly since?: string;
}

/** The record as its line of the log, newline included. */
export function formatRecord(r: HistoryRecord): string {
  // Key order fixed, absent values left out: the raw-byte search depends on `"key":"value"`.
  const o: Record<string, unknown> = { time: r.time, event: r.event, by: r.by, domain: r.domain, instance: r.instance };
  if (r.name !== null) o.name = r.name;
  if (r.project !== null) o.project = r.project;
  o.port = r.port;
  if (r.mac !== null) o.mac = r.mac;
  o.address = r.address;
  o.type = r.type;
  o.version = r.version;
  if (r.since !== undefined) o.since = r.since;
  return `${JSON.stringify(o)}\n`;
}

/** A line of the log read back; undefined when it is not a record (torn, damaged, foreign). */
export function parseRecord(line: string): HistoryRecord | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  return recordOf(o);
}

/** A record from a parsed JSON value; undefined when it is not one. */
function recordOf(o: unknown): HistoryRecord | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const v = o as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  const optional = (x: unknown) => (x === undefined || x === null ? null : str(x));
  const time = str(v.time);
  const event = str(v.event);
  const by = str(v.by);
  const domain = str(v.domain);
  const instance = parseUuid(str(v.instance) ?? '');
  const port = parseUuid(str(v.port) ?? '');
  const ip = parseIp(str(v.address) ?? '');
  const type = str(v.type);
  const name = optional(v.name);
  const project = optional(v.project);
  const macText = optional(v.mac);
  const mac = macText === null ? null : parseMac(macText ?? '');
  if (time === undefined || !isTime(time) || domain === undefined || !instance || !port || !ip || ip.address !== v.address) return undefined;
  if (event !== 'added' && event !== 'removed' && event !== 'held') return undefined;
  if (!SEEN_BY.includes(by as SeenBy) || (type !== 'fixed' && type !== 'floating') || v.version !== ip.version) return undefined;
  if (name === undefined || project === undefined || mac === undefined) return undefined;
  const record: HistoryRecord = { time, event, by: by as SeenBy, domain, instance, name, project, port, mac, address: ip.address, type, version: ip.version };
  if (event !== 'held') return record;
  const since = str(v.since);
  return since === undefined || !isTime(since) ? undefined : { ...record, since };
}

function isTime(text: string): boolean {
  return !Number.isNaN(Date.parse(text));
}

/** The key that tells one holding from another within an instance. */
function holdingKey(a: Pick<HeldAddress, 'port' | 'type' | 'address'>): string {
  return `${a.port} ${a.type} ${a.address}`;
}

/** The ports of an instance as its XML has them, reduced to what the history keeps: well-formed entries only. */
export interface PortsSeen {
  readonly ports: readonly { readonly id: string; readonly ips: readonly { readonly type: string; readonly address: string; readonly version: string | number }[] }[];
  /** Port id → MAC, where known. */
  readonly macs: Readonly<Record<string, string>>;
}

/**
 * Each port's MAC: the cached VIF's, when that MAC is on one of the domain's interfaces, else
 * that of the interface nova named after the port (`tap` + 11 characters of its id).
 */
export function portMacs(portIds: Iterable<string>, interfaces: readonly DomainInterface[], vifs: readonly Vif[] = []): Record<string, string> {
  const onDomain = new Set(interfaces.map((i) => i.mac));
  const macs: Record<string, string> = {};
  for (const id of portIds) {
    const vif = vifs.find((v) => v.id === id && onDomain.has(v.mac));
    const mac = vif?.mac ?? interfaces.find((i) => i.mac !== undefined && i.dev !== undefined && deviceMatchesPort(i.dev.toLowerCase(), id))?.mac;
    if (mac !== undefined) macs[id] = mac;
  }
  return macs;
}

export function heldAddresses(seen: PortsSeen): HeldAddress[] {
  const out: HeldAddress[] = [];
  const keys = new Set<string>();
  for (const p of seen.ports) {
    const port = parseUuid(p.id);
    if (!port) continue;
    for (const ip of p.ips) {
      const parsed = parseIp(ip.address);
      if (!parsed || String(parsed.version) !== String(ip.version) || (ip.type !== 'fixed' && ip.type !== 'floating')) continue;
      const held: HeldAddress = { port, mac: parseMac(seen.macs[port] ?? '') ?? null, address: parsed.address, type: ip.type, version: parsed.version };
      const key = holdingKey(held);
      if (keys.has(key)) continue;
      keys.add(key);
      out.push(held);
    }
  }
  return out;
}

export interface Observation {
  readonly time: string;
  readonly instance: Uuid;
  readonly identity: InstanceIdentity;
  /** What the domain's XML held when read, before any write; null when nothing was read (the instance is gone). */
  readonly found: readonly HeldAddress[] | null;
  /** What it holds now. */
  readonly now: readonly HeldAddress[];
  /** Gone: the removals are the instance's leaving. */
  readonly gone?: boolean;
}

/**
 * The records an observation makes against what was last recorded, and the instance's new
 * state (undefined: forget the instance). Nothing changed: no record.
 */
export function recordChanges(state: HistoryState, o: Observation): { records: HistoryRecord[]; next: InstanceState | undefined } {
  const known = state.instances.get(o.instance);
  const foundKeys = o.found === null ? undefined : new Set(o.found.map(holdingKey));
  const knownByKey = new Map((known?.addresses ?? []).map((a) => [holdingKey(a), a]));
  const nowKeys = new Set(o.now.map(holdingKey));
  const records: HistoryRecord[] = [];
  const record = (event: HistoryEvent, by: SeenBy, a: HeldAddress, identity: InstanceIdentity) => {
    records.push({ time: o.time, event, by, ...identity, instance: o.instance, port: a.port, mac: a.mac, address: a.address, type: a.type, version: a.version });
  };
  const addresses: Holding[] = [];
  for (const a of o.now) {
    const key = holdingKey(a);
    const before = knownByKey.get(key);
    if (before) {
      // The MAC may have become known since (a cache file put later).
      addresses.push({ ...a, mac: a.mac ?? before.mac, since: before.since, by: before.by });
      continue;
    }
    const by: SeenBy = !known && !state.complete ? 'seed' : foundKeys?.has(key) === false ? 'repair' : 'found';
    record('added', by, a, o.identity);
    addresses.push({ ...a, since: o.time, by });
  }
  for (const [key, a] of knownByKey) {
    if (nowKeys.has(key)) continue;
    const by: SeenBy = o.gone ? 'gone' : foundKeys?.has(key) === true ? 'repair' : 'found';
    record('removed', by, a, known ?? o.identity);
  }
  return { records, next: o.gone ? undefined : { ...o.identity, addresses } };
}

/** The `held` records that open a fresh log file: every address held now, with its beginning. */
export function heldRecords(state: HistoryState, time: string): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  for (const [instance, s] of state.instances) {
    for (const a of s.addresses) {
      records.push({ time, event: 'held', by: a.by, domain: s.domain, instance, name: s.name, project: s.project, port: a.port, mac: a.mac, address: a.address, type: a.type, version: a.version, since: a.since });
    }
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// The state file: the same information as the log's latest records, kept whole so that a writer
// knows what it last recorded without reading the log. It names the log as it was when the state
// was written (`mark`: the writer's identity and size of the file); a log that has changed since
// (a run that appended and died before replacing the state, a disk that filled half-way through a
// run) holds records the state lacks, and the state is then rebuilt from the log (stateOfRecords).

export function formatState(state: HistoryState, mark: string | undefined): string {
  const instances: Record<string, unknown> = {};
  for (const [uuid, s] of [...state.instances].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) instances[uuid] = s;
  return `${JSON.stringify({ version: 1, complete: state.complete, log: mark ?? null, instances })}\n`;
}

/** The state file read back; undefined when it is not one (then the state is rebuilt from the log). */
export function parseState(text: string): { state: HistoryState; mark: string | undefined } | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const v = o as { version?: unknown; complete?: unknown; log?: unknown; instances?: unknown };
  if (v.version !== 1 || typeof v.complete !== 'boolean' || typeof v.instances !== 'object' || v.instances === null) return undefined;
  if (v.log !== null && typeof v.log !== 'string') return undefined;
  const instances = new Map<Uuid, InstanceState>();
  for (const [key, raw] of Object.entries(v.instances)) {
    const uuid = parseUuid(key);
    const s = raw as Partial<Record<keyof InstanceState, unknown>> | null;
    if (!uuid || typeof s !== 'object' || s === null || typeof s.domain !== 'string' || !Array.isArray(s.addresses)) return undefined;
    const addresses: Holding[] = [];
    for (const a of s.addresses as unknown[]) {
      // A holding is a record without the instance: checked by the record parser.
      if (typeof a !== 'object' || a === null) return undefined;
      const r = recordOf({ ...a, time: (a as { since?: unknown }).since, event: 'added', domain: s.domain, instance: uuid });
      if (!r) return undefined;
      addresses.push({ port: r.port, mac: r.mac, address: r.address, type: r.type, version: r.version, since: r.time, by: r.by });
    }
    const text = (x: unknown) => (typeof x === 'string' ? x : null);
    instances.set(uuid, { domain: s.domain, name: text(s.name), project: text(s.project), addresses });
  }
  return { state: { complete: v.complete, instances }, mark: v.log ?? undefined };
}

/** What the records say is held now, each holding with its beginning: the state the log implies. */
export function stateOfRecords(records: Iterable<HistoryRecord>, complete: boolean): HistoryState {
  const instances = new Map<Uuid, InstanceState>();
  for (const i of intervalsOf(records)) {
    if (i.until !== null) continue;
    const s = instances.get(i.instance) ?? { domain: i.domain, name: i.name, project: i.project, addresses: [] };
    instances.set(i.instance, { ...s, addresses: [...s.addresses, { port: i.port, mac: i.mac, address: i.address, type: i.type, version: i.version, since: i.from, by: i.addedBy }] });
  }
  return { complete, instances };
}

// ---------------------------------------------------------------------------------------------
// Intervals: what `history` prints.

export interface Interval extends HeldAddress, InstanceIdentity {
  readonly instance: Uuid;
  readonly from: string;
  /** null: held still (as last recorded). */
  readonly until: string | null;
  readonly addedBy: SeenBy;
  readonly removedBy: SeenBy | null;
}

/**
 * The intervals during which each instance held each address, from records in the order they
 * were written (not by their times: a clock stepped back must not reorder what happened). A
 * record repeated (a run killed after writing its records but before its state, then run again)
 * changes nothing: an address added while held, or removed while not held, is no news.
 */
export function intervalsOf(records: Iterable<HistoryRecord>): Interval[] {
  const open = new Map<string, Interval>();
  const closed: Interval[] = [];
  for (const r of records) {
    const key = `${r.instance} ${holdingKey(r)}`;
    const current = open.get(key);
    if (r.event === 'removed') {
      if (current) {
        closed.push({ ...current, until: r.time, removedBy: r.by });
        open.delete(key);
      }
      continue;
    }
    if (current) {
      if (current.mac === null && r.mac !== null) open.set(key, { ...current, mac: r.mac });
      continue;
    }
    const from = r.event === 'held' ? (r.since ?? r.time) : r.time;
    open.set(key, {
      instance: r.instance,
      domain: r.domain,
      name: r.name,
      project: r.project,
      port: r.port,
      mac: r.mac,
      address: r.address,
      type: r.type,
      version: r.version,
      from,
      until: null,
      addedBy: r.by,
      removedBy: null,
    });
  }
  return [...closed, ...open.values()].sort((a, b) => Date.parse(a.from) - Date.parse(b.from) || compareText(a.instance, b.instance) || compareText(a.address, b.address));
}

export interface TimeWindow {
  /** Held at this moment. */
  readonly at?: Date;
  /** Held at some moment from `since`... */
  readonly since?: Date;
  /** ...to `until`. */
  readonly until?: Date;
}

export function inWindow(i: Interval, w: TimeWindow): boolean {
  const from = Date.parse(i.from);
  const until = i.until === null ? Infinity : Date.parse(i.until);
  if (w.at !== undefined) return from <= w.at.getTime() && w.at.getTime() < until;
  if (w.since !== undefined && until < w.since.getTime()) return false;
  if (w.until !== undefined && from > w.until.getTime()) return false;
  return true;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
