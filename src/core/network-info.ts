/**
 * nova's network_info (a JSON list of VIFs, as in `instance_info_caches.network_info`), checked
 * strictly and reduced to what `<nova:ports>` carries. Every rejection is one line naming the JSON
 * path and the value, so an operator can find the culprit in a file of hundreds of lines.
 */
import { InputError, quote } from '../errors';
import { parseIp, type IpVersion } from './ip';
import { parseMac, parseUuid, type IpType, type PortIp, type Vif } from './model';

export const LIMITS = { bytes: 1024 * 1024, ports: 64, addresses: 256 } as const;

type Json = unknown;
type JsonObject = Record<string, Json>;

/** Parses and validates network_info text; `source` names the file in errors. */
export function parseNetworkInfo(text: string, source: string): Vif[] {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.bytes) {
    throw new InputError(source, `network_info is larger than ${LIMITS.bytes} bytes`);
  }
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, `not JSON: ${(err as Error).message}`);
  }
  try {
    return validateNetworkInfo(json);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(source, err.message);
    throw err;
  }
}

/** Validates an already parsed network_info document; errors name only the JSON path. */
export function validateNetworkInfo(json: Json): Vif[] {
  if (!Array.isArray(json)) throw fail('', json, 'is not a list of VIFs');
  if (json.length > LIMITS.ports) {
    throw new InputError('', `${json.length} ports, more than the limit of ${LIMITS.ports}`);
  }
  const vifs: Vif[] = [];
  const seenIds = new Map<string, string>();
  const seenMacs = new Map<string, string>();
  let addresses = 0;
  json.forEach((raw, i) => {
    const path = `[${i}]`;
    const vif = object(raw, path);
    const id = parseUuid(string(vif.id, `${path}.id`));
    if (!id) throw fail(`${path}.id`, vif.id, 'is not a UUID');
    const mac = parseMac(string(vif.address, `${path}.address`));
    if (!mac) throw fail(`${path}.address`, vif.address, 'is not a MAC address');
    duplicate(seenIds, id, `${path}.id`);
    duplicate(seenMacs, mac, `${path}.address`);
    const ips = vifIps(vif.network, `${path}.network`);
    addresses += ips.length;
    if (addresses > LIMITS.addresses) {
      throw new InputError(path, `more than the limit of ${LIMITS.addresses} addresses in all`);
    }
    vifs.push({ id, mac, ips });
  });
  return vifs;
}

/** Fixed IPs in subnet then IP order, then the floating IPs in the order of their fixed IPs. */
function vifIps(network: Json, path: string): PortIp[] {
  if (network === null || network === undefined) return [];
  const net = object(network, path);
  const fixed: PortIp[] = [];
  const floating: PortIp[] = [];
  // canonical address → the JSON path of its first occurrence in this port, fixed or floating
  const seen = new Map<string, string>();
  optionalList(net.subnets, `${path}.subnets`).forEach((rawSubnet, s) => {
    const subnetPath = `${path}.subnets[${s}]`;
    const subnet = object(rawSubnet, subnetPath);
    optionalList(subnet.ips, `${subnetPath}.ips`).forEach((rawIp, n) => {
      const ipPath = `${subnetPath}.ips[${n}]`;
      const ip = object(rawIp, ipPath);
      fixed.push(address(ip, ipPath, 'fixed', seen));
      optionalList(ip.floating_ips, `${ipPath}.floating_ips`).forEach((rawFloat, f) => {
        const floatPath = `${ipPath}.floating_ips[${f}]`;
        floating.push(address(object(rawFloat, floatPath), floatPath, 'floating', seen));
      });
    });
  });
  return [...fixed, ...floating];
}

/**
 * One address; `expected` is the type its list implies, and a missing `type` means that. An
 * address may appear once per port, whatever its spelling and type (`seen` holds the port's).
 */
function address(ip: JsonObject, path: string, expected: IpType, seen: Map<string, string>): PortIp {
  const text = string(ip.address, `${path}.address`);
  const parsed = parseIp(text);
  if (!parsed) throw fail(`${path}.address`, text, 'is not an IP address');
  const first = seen.get(parsed.address);
  if (first !== undefined) throw fail(`${path}.address`, text, `repeats ${first}`);
  seen.set(parsed.address, `${path}.address`);
  if (ip.type !== undefined && ip.type !== null) {
    const type = string(ip.type, `${path}.type`);
    if (type !== 'fixed' && type !== 'floating') throw fail(`${path}.type`, type, 'is not "fixed" or "floating"');
    if (type !== expected) throw fail(`${path}.type`, type, `is not "${expected}", as its list implies`);
  }
  let version: IpVersion = parsed.version;
  if (ip.version !== undefined && ip.version !== null) {
    if (ip.version !== 4 && ip.version !== 6) throw fail(`${path}.version`, ip.version, 'is not 4 or 6');
    if (ip.version !== parsed.version) {
      throw fail(`${path}.version`, ip.version, `contradicts the address ${text} (IPv${parsed.version})`);
    }
    version = ip.version;
  }
  return { type: expected, address: parsed.address, version };
}

function object(value: Json, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(path, value, 'is not an object');
  return value as JsonObject;
}

function string(value: Json, path: string): string {
  if (typeof value !== 'string') throw fail(path, value, value === undefined ? 'is missing' : 'is not a string');
  return value;
}

function optionalList(value: Json, path: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fail(path, value, 'is not a list');
  return value;
}

function duplicate(seen: Map<string, string>, key: string, path: string): void {
  const first = seen.get(key);
  if (first !== undefined) throw new InputError(path, `${quote(key)} repeats ${first}`);
  seen.set(key, path);
}

function fail(path: string, value: Json, problem: string): InputError {
  const shown = value === undefined ? '' : `${quote(value)} `;
  return new InputError(path, `${shown}${problem}`);
}
