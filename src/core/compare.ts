/**
 * Equality and difference of port lists. Inputs are already canonical (ids lower case, addresses
 * in canonical text), so whitespace, prefixes and quoting of the XML they came from do not matter.
 */
import type { Port } from './model';
import type { ReadPort } from './ports-xml';

type AnyPort = Port | ReadPort;

function ipKey(ip: AnyPort['ips'][number]): string {
  return `${ip.type} ${ip.address} v${ip.version}`;
}

/** JSON, not a joined string: an odd address read from XML (`"1.2.3.4 v4|fixed ..."`) cannot pose as two. */
function portKey(p: AnyPort): string {
  return JSON.stringify([p.id, ...p.ips.map((ip) => [ip.type, ip.address, String(ip.version)])]);
}

/** null (no `<nova:ports>` at all) equals nothing, not even an empty list: nova writes `<nova:ports/>`. */
export function portsEqual(a: readonly AnyPort[] | null, b: readonly AnyPort[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((p, i) => portKey(p) === portKey(b[i] as AnyPort));
}

export type PortChange =
  | { readonly kind: 'missing-element' }
  | { readonly kind: 'add'; readonly port: string; readonly ips: readonly string[] }
  | { readonly kind: 'remove'; readonly port: string; readonly ips: readonly string[] }
  | { readonly kind: 'change'; readonly port: string; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly kind: 'reorder' };

/** What it takes to turn `actual` into `desired`, port by port, for `--dry-run` and logs. */
export function diffPorts(actual: readonly AnyPort[] | null, desired: readonly Port[]): PortChange[] {
  if (portsEqual(actual, desired)) return [];
  const changes: PortChange[] = [];
  if (actual === null) changes.push({ kind: 'missing-element' });
  const before = new Map((actual ?? []).map((p) => [p.id, p.ips.map(ipKey)]));
  const after = new Map(desired.map((p) => [p.id as string, p.ips.map(ipKey)]));
  for (const [port, ips] of after) {
    const old = before.get(port);
    if (!old) changes.push({ kind: 'add', port, ips });
    else if (old.join() !== ips.join()) {
      changes.push({ kind: 'change', port, added: ips.filter((k) => !old.includes(k)), removed: old.filter((k) => !ips.includes(k)) });
    }
  }
  for (const [port, ips] of before) if (!after.has(port)) changes.push({ kind: 'remove', port, ips });
  if (changes.length === 0) changes.push({ kind: 'reorder' });
  return changes;
}

export function describeChange(c: PortChange): string {
  switch (c.kind) {
    case 'missing-element':
      return '+ <nova:ports> (absent)';
    case 'add':
      return `+ port ${c.port}${c.ips.length ? `: ${c.ips.join(', ')}` : ''}`;
    case 'remove':
      return `- port ${c.port}${c.ips.length ? `: ${c.ips.join(', ')}` : ''}`;
    case 'change':
      return `~ port ${c.port}: ${[...c.added.map((k) => `+${k}`), ...c.removed.map((k) => `-${k}`)].join(', ') || 'order of addresses'}`;
    case 'reorder':
      return '~ order of ports';
  }
}
