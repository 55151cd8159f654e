/**
 * IP address parsing and canonical text, without node:net: the core stays free of I/O modules and
 * the rules (no leading zeros, no zone ids, RFC 5952 output) are ours, not a Node version's.
 */
declare const canonical: unique symbol;
/** An address in canonical text: dotted-quad IPv4, or RFC 5952 IPv6 (compressed, lower case). */
export type IpAddress = string & { readonly [canonical]: true };
export type IpVersion = 4 | 6;

export interface ParsedIp {
  readonly address: IpAddress;
  readonly version: IpVersion;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses an IPv4 or IPv6 address; undefined when the text is not one. */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.length > 45) return undefined;
  if (IPV4.test(text)) return { address: text as IpAddress, version: 4 };
  const groups = parseIpv6Groups(text);
  return groups ? { address: formatIpv6(groups) as IpAddress, version: 6 } : undefined;
}

function parseIpv6Groups(text: string): number[] | undefined {
  if (!text.includes(':')) return undefined;
  let head = text;
  let tail: number[] = [];
  // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (!IPV4.test(maybeV4)) return undefined;
    const [a, b, c, d] = maybeV4.split('.').map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::" and "1::1.2.3.4" leaves "1::"; a lone trailing ':' is malformed.
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!HEX_GROUP.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0] ?? '');
  if (!left) return undefined;
  if (halves.length === 1) {
    const all = [...left, ...tail];
    return all.length === 8 ? all : undefined;
  }
  const right = parse(halves[1] ?? '');
  if (!right) return undefined;
  const missing = 8 - left.length - right.length - tail.length;
  // "::" must stand for at least one group.
  if (missing < 1) return undefined;
  return [...left, ...(new Array(missing).fill(0) as number[]), ...right, ...tail];
}

/** RFC 5952: lower case, no leading zeros, the longest run (first if tied) of 2+ zero groups as "::". */
function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const [hi, lo] = [groups[6] ?? 0, groups[7] ?? 0];
    return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
