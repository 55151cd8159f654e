/**
 * The libvirt calls the tool makes, whichever way they travel (docs/design.md, "libvirt's
 * RPC"): over the daemon's own UNIX socket in libvirt's RPC (./rpc/remote.ts) when the URI is
 * the local system daemon, through one long-running virsh (../virsh/virsh-libvirt.ts) otherwise.
 * Both count what they send: a run reports its libvirt calls.
 */
import { NotFoundError, quote } from '../../errors';
import { parseUuid, type Uuid } from '../../core/model';
import { argProblem } from '../virsh/quote';
import { VirshError } from '../virsh/virsh-error';
import { LibvirtCallError } from './rpc/connection';

export interface DomainRef {
  uuid: Uuid;
  name: string;
  /** Running or paused (has a live definition). */
  active: boolean;
  /**
   * The daemon's ID of an active domain, when the listing gave it: a status file of the same
   * guest's current run carries the same `<domain id=...>` (the read from libvirt's files checks it).
   */
  id?: number;
}

/**
 * Why `payload` cannot be sent as nova's metadata, or undefined when it can. Whichever way it
 * travels, the rule is virsh's for one argument (../virsh/quote.ts): every write the tool makes
 * over the socket could also be made by hand with virsh.
 */
export function payloadProblem(payload: string): string | undefined {
  return argProblem(payload);
}

export interface Libvirt {
  /** Every domain, running or not, in virsh's order (running ones by ID, then the others by name). */
  listDomains(): Promise<DomainRef[]>;
  /**
   * The running guests without a persistent definition (`virsh create`): for them the inactive
   * XML is the live definition and a write to the persistent one fails.
   */
  transientUuids(): Promise<ReadonlySet<Uuid>>;
  /** The live definition, or with `inactive` the persistent one. */
  dumpXml(ref: DomainRef, opts: { inactive: boolean }): Promise<string>;
  /**
   * Replaces the metadata element of namespace `uri` (every element of it: docs/design.md, "Facts
   * about libvirt") with `payload`, one line of XML whose unqualified elements libvirt puts in
   * `uri` under the prefix `nova` (core/metadata-payload.ts builds it).
   */
  setNovaMetadata(ref: DomainRef, uri: string, payload: string, target: { live: boolean; persistent: boolean }): Promise<void>;
  /** Calls sent so far, failed ones included. */
  readonly calls: number;
  /** Lets calls in flight finish, then disconnects. Idempotent. */
  close(): Promise<void>;
}

/**
 * What the tool tells apart when a libvirt call fails, whichever way it travelled; each transport
 * says which at the source (VirshError from virsh's words, LibvirtCallError from libvirt's error
 * number):
 * - `no-domain`: the domain is gone (undefined, or a transient guest stopped) since it was listed;
 * - `transient-refusal`: libvirt refused a call about the persistent definition of a transient guest;
 * - `other`: any other failure.
 */
export type LibvirtFailure = 'no-domain' | 'transient-refusal' | 'other';

/** How a libvirt call failed; `other` for anything that is not a failed libvirt call. */
export function libvirtFailure(err: unknown): LibvirtFailure {
  return err instanceof LibvirtCallError || err instanceof VirshError ? err.failure : 'other';
}

/**
 * Time allowed to one libvirt call (a virsh command, an RPC call), 30 s;
 * NOVA_IPMETA_LIBVIRT_TIMEOUT=<seconds> changes it (a slow host, or a test of a hung daemon):
 * anything but a positive number is ignored.
 */
export function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env['NOVA_IPMETA_LIBVIRT_TIMEOUT']);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000;
}

/** Sorted in virsh list's order: running domains by ID, then the others by name's UTF-8 bytes, ASCII case ignored. */
export function inVirshOrder(refs: readonly DomainRef[]): DomainRef[] {
  const keyed = refs.map((ref) => ({ ref, name: Buffer.from(ref.name.replace(/[A-Z]/g, (c) => c.toLowerCase()), 'utf8') }));
  keyed.sort((a, b) => {
    if (a.ref.active && b.ref.active) return (a.ref.id ?? 0) - (b.ref.id ?? 0);
    if (a.ref.active !== b.ref.active) return a.ref.active ? -1 : 1;
    return Buffer.compare(a.name, b.name);
  });
  return keyed.map((k) => k.ref);
}

/**
 * The domain with this UUID or, failing that, exactly this name. Looked up in the list rather
 * than by libvirt, which would also take a number as a domain ID.
 */
export async function resolveDomain(libvirt: Pick<Libvirt, 'listDomains'>, nameOrUuid: string): Promise<DomainRef> {
  const domains = await libvirt.listDomains();
  const uuid = parseUuid(nameOrUuid);
  const found = (uuid && domains.find((d) => d.uuid === uuid)) ?? domains.find((d) => d.name === nameOrUuid);
  if (!found) throw new NotFoundError(`no domain ${quote(nameOrUuid)} (neither the name nor the UUID of a domain libvirt knows)`);
  return found;
}

/**
 * The transient guests, asked once, and only when a write to a running guest's persistent
 * definition read from libvirt (not from its file) needs to know: nova defines every guest, so
 * an in-sync run never asks.
 */
export class TransientDomains {
  private uuids: Promise<ReadonlySet<Uuid>> | undefined;

  constructor(private readonly libvirt: Pick<Libvirt, 'transientUuids'>) {}

  async has(uuid: Uuid): Promise<boolean> {
    this.uuids ??= this.libvirt.transientUuids();
    try {
      return (await this.uuids).has(uuid);
    } catch (err) {
      this.uuids = undefined;
      throw err;
    }
  }
}
