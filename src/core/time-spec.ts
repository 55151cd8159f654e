/**
 * The times `history --at/--since/--until` take, as an operator has them at hand: an ISO 8601
 * time from an abuse report or a log (with `Z` or an offset; without one it is the host's local
 * time, as date(1) and journalctl read it), a Unix time (`@1700000000`, as date(1) writes it),
 * or a time relative to now (`now`, `today`, `yesterday`, `2h ago`, `-90m`).
 *
 * Pure: `now` is passed in, and the result is a Date or undefined (the caller names the option).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
};

const RELATIVE = /^(?:-\s*(\d+)\s*([a-z]+)|(\d+)\s*([a-z]+)\s+ago)$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH = /^@(-?\d{1,12})(?:\.(\d{1,9}))?$/;

/** The time `text` names, or undefined when it names none (or a date that does not exist, like 2026-02-30). */
export function parseTimeSpec(text: string, now: Date): Date | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'now') return new Date(now.getTime());
  if (t === 'today' || t === 'yesterday') {
    const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    if (t === 'yesterday') midnight.setDate(midnight.getDate() - 1);
    return midnight;
  }
  const rel = RELATIVE.exec(t);
  if (rel) {
    const count = Number(rel[1] ?? rel[3]);
    const unit = unitMs(rel[2] ?? rel[4] ?? '');
    return unit === undefined ? undefined : new Date(now.getTime() - count * unit);
  }
  const epoch = EPOCH.exec(t);
  if (epoch) return new Date(Number(epoch[1]) * 1000 + fractionMs(epoch[2]) * Math.sign(Number(epoch[1]) || 1));
  return parseIso(text.trim());
}

function unitMs(word: string): number | undefined {
  return UNIT_MS[word] ?? UNIT_MS[word.replace(/s$/, '')];
}

function fractionMs(digits: string | undefined): number {
  return digits === undefined ? 0 : Math.floor(Number(`0.${digits}`) * 1000);
}

function parseIso(text: string): Date | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const ms = fractionMs(m[7]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8];
  let date: Date;
  if (zone === undefined) {
    date = new Date(year, month - 1, day, hour, minute, second, ms);
    // The local date the parts make must be the one given (2026-02-30 rolls over into March).
    if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return undefined;
    return date;
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(utc).getUTCDate() !== day) return undefined;
  return new Date(utc - offsetMs(zone));
}

/** `Z`, `+02`, `+0200`, `-05:30` as milliseconds east of UTC. */
function offsetMs(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** A time as the history prints it: ISO 8601 in UTC, to the second (`2026-11-30T03:12:09Z`). */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
