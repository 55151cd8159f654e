/**
 * The virsh calls the tool makes, typed. Domains are addressed by UUID (`--domain UUID`: virsh
 * looks a UUID up as a UUID, never as a name or an ID), and user values only ever travel as the
 * value of a named option, which virsh takes as it is even when it starts with `--`.
 */
import { SystemError, quote } from '../../errors';
import { parseUuid, type Uuid } from '../../core/model';
import type { DomainRef } from '../libvirt/libvirt';
import type { VirshSession } from './session';
import { VirshError } from './virsh-error';

/**
 * Every domain, running or not, in virsh's order: one command, `list --all --uuid --id --name`
 * (`UUID ID NAME` per line, `-` for the ID of an inactive domain: exactly that format, names as they are).
 * A virsh without `--id` gets the two listings it always had.
 */
export async function listDomains(s: VirshSession): Promise<DomainRef[]> {
  let all: DomainRef[];
  try {
    all = parseUuidIdNames(await s.run(['list', '--all', '--uuid', '--id', '--name']));
  } catch (err) {
    if (!(err instanceof VirshError && /--id|doesn't support option/i.test(err.stderr))) throw err;
    const named = parseUuidNames(await s.run(['list', '--all', '--uuid', '--name']));
    const active = new Set(parseUuids(await s.run(['list', '--uuid'])));
    all = named.map(({ uuid, name }) => ({ uuid, name, active: active.has(uuid) }));
  }
  return all;
}

/** `list --transient --uuid`. */
export async function transientUuids(s: VirshSession): Promise<ReadonlySet<Uuid>> {
  return new Set(parseUuids(await s.run(['list', '--transient', '--uuid'])));
}

/** The live definition, or with `inactive` the persistent one. */
export function dumpXml(s: VirshSession, uuid: Uuid, opts: { inactive: boolean }): Promise<string> {
  return s.run(['dumpxml', '--domain', uuid, ...(opts.inactive ? ['--inactive'] : [])]);
}

/**
 * Replaces the metadata element of namespace `uri` (every element of it: docs/design.md, "Facts about libvirt") with
 * `payload`, one line of XML whose unqualified elements libvirt puts in `uri` under the prefix
 * `nova` (core/metadata-payload.ts builds it).
 */
export async function setNovaMetadata(
  s: VirshSession,
  uuid: Uuid,
  uri: string,
  payload: string,
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
    payload,
    ...(target.live ? ['--live'] : []),
    ...(target.persistent ? ['--config'] : []),
  ]);
}

/** `list --all --uuid --id --name` lines: a UUID, one space, a decimal ID or `-`, one space, the name as it is. */
export function parseUuidIdNames(out: string): DomainRef[] {
  return lines(out).map((line) => {
    const uuid = parseUuid(line.slice(0, 36));
    const m = /^ (-|\d{1,10}) /.exec(line.slice(36));
    if (!uuid || !m?.[1] || line.length === 36 + m[0].length) throw unexpected('list --all --uuid --id --name', line);
    const name = line.slice(36 + m[0].length);
    return m[1] === '-' ? { uuid, name, active: false } : { uuid, name, active: true, id: Number(m[1]) };
  });
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
