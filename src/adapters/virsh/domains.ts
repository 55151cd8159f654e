/**
 * The virsh calls the tool makes, typed. Domains are addressed by UUID (`--domain UUID`: virsh
 * looks a UUID up as a UUID, never as a name or an ID), and user values only ever travel as the
 * value of a named option, which virsh takes as it is even when it starts with `--`.
 */
import { NotFoundError, SystemError, quote } from '../../errors';
import { parseUuid, type Uuid } from '../../core/model';
import { xmlOnOneLine } from './quote';
import type { VirshSession } from './session';

export interface DomainRef {
  uuid: Uuid;
  name: string;
  /** Running or paused (has a live definition). */
  active: boolean;
  /** Running without a persistent definition (`virsh create`): `dumpxml --inactive` gives the live one, `--config` fails. */
  transient?: boolean;
}

/** Every domain, running or not, in virsh's order. */
export async function listDomains(s: VirshSession): Promise<DomainRef[]> {
  const all = parseUuidNames(await s.run(['list', '--all', '--uuid', '--name']));
  const active = new Set(parseUuids(await s.run(['list', '--uuid'])));
  const transient = new Set(parseUuids(await s.run(['list', '--transient', '--uuid'])));
  return all.map(({ uuid, name }) => ({ uuid, name, active: active.has(uuid), ...(transient.has(uuid) ? { transient: true } : {}) }));
}

/**
 * The domain with this UUID or, failing that, exactly this name. Looked up in the list rather
 * than by virsh, which would also take a number as a domain ID.
 */
export async function resolveDomain(s: VirshSession, nameOrUuid: string): Promise<DomainRef> {
  const domains = await listDomains(s);
  const uuid = parseUuid(nameOrUuid);
  const found = (uuid && domains.find((d) => d.uuid === uuid)) ?? domains.find((d) => d.name === nameOrUuid);
  if (!found) throw new NotFoundError(`no domain ${quote(nameOrUuid)} (neither the name nor the UUID of a domain libvirt knows)`);
  return found;
}

/** The live definition, or with `inactive` the persistent one. */
export function dumpXml(s: VirshSession, uuid: Uuid, opts: { inactive: boolean }): Promise<string> {
  return s.run(['dumpxml', '--domain', uuid, ...(opts.inactive ? ['--inactive'] : [])]);
}

/**
 * Replaces the metadata element of namespace `uri` (every element of it: docs/design.md, "Facts about libvirt") with
 * `payloadXml`, unprefixed XML to which libvirt gives the prefix `nova`.
 */
export async function setNovaMetadata(
  s: VirshSession,
  uuid: Uuid,
  uri: string,
  payloadXml: string,
  target: { live: boolean; persistent: boolean },
): Promise<void> {
  if (!target.live && !target.persistent) throw new Error('setNovaMetadata: neither the live nor the persistent definition asked for');
  await s.run([
    'metadata',
    '--domain',
    uuid,
    '--uri',
    uri,
    '--key',
    'nova',
    '--set',
    xmlOnOneLine(payloadXml),
    ...(target.live ? ['--live'] : []),
    ...(target.persistent ? ['--config'] : []),
  ]);
}

/** `list --uuid --name` lines: a UUID, one space, the name as it is (it may hold spaces). */
function parseUuidNames(out: string): { uuid: Uuid; name: string }[] {
  return lines(out).map((line) => {
    const uuid = parseUuid(line.slice(0, 36));
    if (!uuid || line[36] !== ' ') throw unexpected('list --all --uuid --name', line);
    return { uuid, name: line.slice(37) };
  });
}

function parseUuids(out: string): Uuid[] {
  return lines(out).map((line) => {
    const uuid = parseUuid(line.trim());
    if (!uuid) throw unexpected('list --uuid', line);
    return uuid;
  });
}

function lines(out: string): string[] {
  return out.split('\n').filter((l) => l.trim() !== '');
}

function unexpected(command: string, line: string): SystemError {
  return new SystemError(`virsh ${command}: unexpected line ${quote(line)}`);
}
