/**
 * What an operator holds when asking "which instance is this?": an IP address (any textual
 * form), a MAC, a port UUID, a tap device, an instance UUID, nova's name for the instance or the
 * domain's name. `find` takes any of them, `history` the first three; each says which it took the
 * text for, since a UUID may be a port's or an instance's and a word a device's or a name.
 */
import { InputError, quote } from '../errors';
import { addressRows, type AddressRow } from './address-rows';
import { deviceMatchesPort } from './desired';
import type { DomainFacts } from './domain';
import { parseIp, type ParsedIp } from './ip';
import { parseMac, parseUuid, type Mac, type Uuid } from './model';

export type Term =
  | { readonly kind: 'address'; readonly ip: ParsedIp }
  | { readonly kind: 'mac'; readonly mac: Mac }
  /** A port's or an instance's. */
  | { readonly kind: 'uuid'; readonly uuid: Uuid }
  /** A tap device, or nova's or libvirt's name for an instance. */
  | { readonly kind: 'text'; readonly text: string };

/** How a domain matched: what the term was taken for. */
export type MatchKind = 'address' | 'mac' | 'port' | 'instance' | 'device' | 'name' | 'domain';

export const MATCH_WORDS: Readonly<Record<MatchKind, string>> = {
  address: 'an IP address',
  mac: 'a MAC address',
  port: 'a port UUID',
  instance: 'an instance UUID',
  device: 'a tap device',
  name: "nova's name of an instance",
  domain: 'a domain name',
};

/**
 * The term `text` is. Throws InputError for text shaped like an IP address that is not one
 * (`10.0.0.999`, `10.0.0.01`, `fe80::1%eth0`): a typo in an address is an error, not a name.
 */
export function parseTerm(text: string, where: string): Term {
  const ip = parseIp(text);
  if (ip) return { kind: 'address', ip };
  const mac = parseMac(text.replace(/-/g, ':'));
  if (mac && /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(text)) return { kind: 'mac', mac };
  const uuid = parseUuid(text);
  if (uuid) return { kind: 'uuid', uuid };
  if (looksLikeIp(text)) throw new InputError(where, `${quote(text)} is not an IP address`);
  if (text.trim() === '') throw new InputError(where, 'empty');
  return { kind: 'text', text };
}

function looksLikeIp(text: string): boolean {
  if (/^\d+(\.\d+){3}$/.test(text)) return true;
  // Hex groups and colons (a zone id after %): not a MAC, which parseTerm took already.
  return /^[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(%.*)?$/i.test(text);
}

/** A domain's rows that the term designates, and what it was taken for; undefined: none. */
export function matchDomain(domain: DomainFacts, term: Term): { rows: AddressRow[]; as: MatchKind } | undefined {
  const rows = addressRows(domain);
  if (rows.length === 0) return undefined;
  const some = (matched: AddressRow[], as: MatchKind) => (matched.length > 0 ? { rows: matched, as } : undefined);
  switch (term.kind) {
    case 'address':
      return some(
        rows.filter((r) => r.address === term.ip.address),
        'address',
      );
    case 'uuid':
      if (domain.uuid === term.uuid) return { rows, as: 'instance' };
      return some(
        rows.filter((r) => r.portId === term.uuid),
        'port',
      );
    case 'mac': {
      const iface = domain.interfaces.find((i) => i.mac === term.mac);
      return iface ? { rows: portRows(rows, iface.dev), as: 'mac' } : undefined;
    }
    case 'text': {
      const iface = domain.interfaces.find((i) => i.dev === term.text);
      if (iface) return { rows: portRows(rows, iface.dev), as: 'device' };
      if (domain.nova?.displayName === term.text) return { rows, as: 'name' };
      if (domain.name === term.text) return { rows, as: 'domain' };
      return undefined;
    }
  }
}

/**
 * The words under which `matchDomain` can match this domain: `termKey(term)` is one of them
 * whenever `matchDomain(domain, term)` is not undefined (a term whose key is not among them
 * certainly matches nothing here). What `find`'s index of libvirt's files keeps per file
 * (src/adapters/find-index.ts), so that the files that cannot hold a term are not read.
 */
export function searchKeys(domain: DomainFacts): string[] {
  const rows = addressRows(domain);
  if (rows.length === 0) return [];
  const keys = new Set<string>([`u ${domain.uuid}`, `t ${domain.name}`]);
  if (domain.nova?.displayName !== undefined) keys.add(`t ${domain.nova.displayName}`);
  for (const r of rows) {
    if (r.address !== null) keys.add(`a ${r.address}`);
    if (r.portId !== null) keys.add(`u ${r.portId}`);
  }
  for (const i of domain.interfaces) {
    if (i.mac !== undefined) keys.add(`m ${i.mac}`);
    if (i.dev !== undefined) keys.add(`t ${i.dev}`);
  }
  return [...keys];
}

/** The one of `searchKeys`' words that a domain the term matches has. */
export function termKey(term: Term): string {
  switch (term.kind) {
    case 'address':
      return `a ${term.ip.address}`;
    case 'mac':
      return `m ${term.mac}`;
    case 'uuid':
      return `u ${term.uuid}`;
    case 'text':
      return `t ${term.text}`;
  }
}

/** The rows of the port nova named this device after; all the instance's when it lists no such port. */
function portRows(rows: AddressRow[], dev: string | undefined): AddressRow[] {
  const port = dev === undefined ? [] : rows.filter((r) => r.portId !== null && deviceMatchesPort(dev.toLowerCase(), r.portId));
  return port.length > 0 ? port : rows;
}

/** "no instance on this host ..." for a term nothing matched. */
export function noMatchMessage(term: Term): string {
  switch (term.kind) {
    case 'address':
      return `no instance on this host holds ${term.ip.address}`;
    case 'mac':
      return `no instance on this host has an interface with the MAC ${term.mac}`;
    case 'uuid':
      return `no instance or port on this host has the UUID ${term.uuid}`;
    case 'text':
      return `no instance on this host has a tap device or a name ${quote(term.text)}`;
  }
}
