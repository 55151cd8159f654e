/**
 * `find`'s pre-filter: a test on a domain file's raw bytes that is false only when the file
 * certainly does not hold the address in a `<nova:ip address=...>`, so that of a thousand files
 * only the few that may hold it are parsed (a DOM parse costs 1 to 10 ms per domain, searching
 * its bytes a few microseconds).
 *
 * Why it is safe: nova's element sits inside the domain's `<metadata>`, so between the first
 * `<metadata` and the last `</metadata` of the file (a superset of that element, whatever
 * comments or other metadata hold). An attribute value written without character references is
 * the value the parser gives; with one (`&#58;`) the file is parsed. An IPv4 address parses only
 * in its canonical text, so it must appear as is; an IPv6 one may be written in many ways
 * (`FDF8:F53B:82E4:0::52`), so every `address=` value there that lists the address's non-zero
 * groups in order (or has a dotted tail) is parsed and compared. The bytes are
 * UTF-8: every character searched for is ASCII, and no byte of a multi-byte character is.
 */
import { parseIp, type ParsedIp } from './ip';
import type { Term } from './lookup';

// Buffers, not strings: Buffer#indexOf would convert a string needle on every call.
const NOVA_NS_STEM = Buffer.from('http://openstack.org/xmlns/libvirt/nova/');
const METADATA_OPEN = Buffer.from('<metadata');
const METADATA_CLOSE = Buffer.from('</metadata');
const CHARACTER_REFERENCE = Buffer.from('&#');
const ADDRESS_NAME = Buffer.from('address');
const [EQUALS, DOUBLE_QUOTE, SINGLE_QUOTE, ZERO, COLON] = [0x3d, 0x22, 0x27, 0x30, 0x3a];
/** ORed into an ASCII letter's code, gives its lower case; digits are left as they are. */
const LOWER_CASE = 0x20;
const AMPERSAND = Buffer.from('&');

export function mayHoldAddress(target: ParsedIp): (bytes: Buffer) => boolean {
  const address = Buffer.from(target.address, 'latin1');
  // Undefined when the canonical text ends in dotted decimal (::ffff:192.0.2.1): parseIp decides each value.
  const groups = target.address.includes('.') ? undefined : target.address.split(':').filter((g) => g !== '' && g !== '0').join(':');
  return (bytes) => {
    const start = bytes.indexOf(METADATA_OPEN);
    if (start < 0) return false;
    const end = bytes.lastIndexOf(METADATA_CLOSE);
    if (end < start) return false;
    // A view, not a copy: searches that find nothing stop at its end, not the file's.
    const metadata = bytes.subarray(start, end);
    // nova declares its namespace on its element; a hand-written file may declare it on the root.
    const nova = metadata.includes(NOVA_NS_STEM) || bytes.includes(NOVA_NS_STEM);
    if (!nova && !bytes.includes(CHARACTER_REFERENCE)) return false;
    if (metadata.includes(CHARACTER_REFERENCE)) return true;
    if (target.version === 4) return metadata.includes(address);
    for (const value of addressValues(metadata)) {
      // parseIp settles it; most values are cheaply seen not to be the address first.
      if (value.includes(':') && (groups === undefined || value.includes('.') || sameNonZeroGroups(value, groups)) && parseIp(value)?.address === target.address) return true;
    }
    return false;
  };
}

/**
 * Whether `value` lists the same non-zero groups, in the same order, as `groups` (an address's
 * non-zero groups, lower case, without leading zeros, joined by `:`): true for every way to write
 * that IPv6 address with hex groups (any case, leading zeros or not, `::` anywhere or nowhere), so
 * false means it is not that address. Groups are compared as they are read, without splitting.
 */
export function sameNonZeroGroups(value: string, groups: string): boolean {
  let at = 0;
  for (let i = 0; i <= value.length; ) {
    const colon = value.indexOf(':', i);
    const end = colon < 0 ? value.length : colon;
    let start = i;
    while (start < end && value.charCodeAt(start) === ZERO) start++;
    if (start < end) {
      // A group after the first must follow a `:` in `groups` too.
      if (at > 0 && groups.charCodeAt(at++) !== COLON) return false;
      for (let k = start; k < end; k++, at++) if ((value.charCodeAt(k) | LOWER_CASE) !== groups.charCodeAt(at)) return false;
    }
    i = end + 1;
  }
  return at === groups.length;
}

/**
 * Every `address=` attribute value in `bytes`, as latin1 text: `address` after white space, then
 * white space, `=`, white space and a quoted value, as `\saddress\s*=\s*("[^"]*"|'[^']*')` would
 * match in the latin1 text (white space as `\s` takes it there), and more (an `address` inside a
 * value is tried too): a superset, found in the bytes without decoding the rest.
 */
export function* addressValues(bytes: Buffer): Generator<string> {
  for (let at = bytes.indexOf(ADDRESS_NAME); at >= 0; at = bytes.indexOf(ADDRESS_NAME, at + ADDRESS_NAME.length)) {
    if (!isSpace(bytes[at - 1])) continue;
    let i = at + ADDRESS_NAME.length;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== EQUALS) continue;
    i++;
    while (isSpace(bytes[i])) i++;
    const quote = bytes[i];
    if (quote !== DOUBLE_QUOTE && quote !== SINGLE_QUOTE) continue;
    const end = bytes.indexOf(quote, i + 1);
    if (end >= 0) yield bytes.toString('latin1', i + 1, end);
  }
}

/** What `\s` matches among latin1 characters. */
const isSpace = (b: number | undefined) => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d) || b === 0xa0;

/**
 * The same for the other terms `find` takes. A MAC or a UUID may be written in either case (libvirt
 * writes lower case; a file an operator wrote may not): the exact spellings are searched first,
 * then the file's text case-insensitively. A device or a name is searched as its UTF-8 bytes.
 * Any `&` (an entity or character reference could spell the text) leaves it to the parser.
 */
export function mayHoldTerm(term: Term): (bytes: Buffer) => boolean {
  switch (term.kind) {
    case 'address':
      return mayHoldAddress(term.ip);
    case 'mac':
    case 'uuid': {
      const text = term.kind === 'mac' ? term.mac : term.uuid;
      const [lower, upper] = [Buffer.from(text, 'latin1'), Buffer.from(text.toUpperCase(), 'latin1')];
      // Its longest part without a letter is the same in any case: a file without it cannot hold
      // the text, and is not decoded to be searched case-insensitively.
      const caseless = Buffer.from(longestRun(text, /[^a-f]+/g), 'latin1');
      const anyCase = new RegExp(text.replace(/[^0-9a-f]/g, '.'), 'i');
      return (bytes) =>
        bytes.includes(lower) ||
        bytes.includes(upper) ||
        bytes.includes(AMPERSAND) ||
        ((caseless.length < 3 || bytes.includes(caseless)) && anyCase.test(bytes.toString('latin1')));
    }
    case 'text': {
      const text = Buffer.from(term.text, 'utf8');
      return (bytes) => bytes.includes(text) || bytes.includes(AMPERSAND);
    }
  }
}

function longestRun(text: string, run: RegExp): string {
  return (text.match(run) ?? []).reduce((a, b) => (b.length > a.length ? b : a), '');
}
