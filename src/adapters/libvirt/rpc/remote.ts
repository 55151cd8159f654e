/**
 * The libvirt calls over the local daemon's own socket, as libvirt's client library makes them
 * (libvirt's src/remote/remote_protocol.x): a connection is authenticated (AUTH_LIST: root on the
 * UNIX socket needs nothing, or polkit, which libvirt passes for root) and opened on the URI, then
 * each call is one message and its reply. A domain travels by value (name, UUID, ID), so a call
 * needs no lookup first: one round trip where virsh makes two.
 *
 * The connection opens on the first call and again on the next call after it ended (a daemon
 * restarted between two calls, a call that timed out), as virsh reconnects; a call in flight
 * when it ends fails.
 */
import { SystemError } from '../../../errors';
import type { Uuid } from '../../../core/model';
import { parseUuid } from '../../../core/model';
import { inVirshOrder, type DomainRef, type Libvirt } from '../libvirt';
import { LibvirtCallError, MAX_STRING_BYTES, RpcConnection } from './connection';
import { XdrReader, XdrWriter } from './xdr';

const PROC = {
  connectOpen: 1,
  connectClose: 2,
  domainGetXmlDesc: 14,
  authList: 66,
  authPolkit: 70,
  domainSetMetadata: 264,
  connectListAllDomains: 273,
} as const;

const AUTH_NONE = 0;
const AUTH_POLKIT = 2;
/** virConnectListAllDomainsFlags */
const LIST_TRANSIENT = 8;
/** virDomainXMLFlags */
const XML_INACTIVE = 2;
/** virDomainMetadataType: an element of the caller's own namespace. */
const METADATA_ELEMENT = 2;
/** virDomainModificationImpact */
const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
/** More domains than any host holds; libvirt itself sets no limit on this list. */
const MAX_DOMAINS = 65_536;
const MAX_NAME_BYTES = 4096;

export interface RemoteOptions {
  /** The daemon's socket. */
  readonly socket: string;
  /** The URI the daemon opens its driver with (`qemu:///system`). */
  readonly name: string;
  /** Time allowed to one call (and to connecting), in ms. */
  readonly timeoutMs: number;
}

export class RemoteLibvirt implements Libvirt {
  private connection: Promise<RpcConnection> | undefined;
  private sent = 0;
  private inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: RemoteOptions) {}

  get calls(): number {
    return this.sent;
  }

  async listDomains(): Promise<DomainRef[]> {
    return inVirshOrder(await this.listAll(0));
  }

  async transientUuids(): Promise<ReadonlySet<Uuid>> {
    return new Set((await this.listAll(LIST_TRANSIENT)).map((r) => r.uuid));
  }

  async dumpXml(ref: DomainRef, opts: { inactive: boolean }): Promise<string> {
    const args = domain(new XdrWriter(), ref).uint(opts.inactive ? XML_INACTIVE : 0);
    const r = await this.call(PROC.domainGetXmlDesc, `DomainGetXMLDesc ${ref.name}`, args);
    return r.string(MAX_STRING_BYTES);
  }

  async setNovaMetadata(ref: DomainRef, uri: string, payload: string, target: { live: boolean; persistent: boolean }): Promise<void> {
    if (!target.live && !target.persistent) throw new Error('setNovaMetadata: neither the live nor the persistent definition asked for');
    const flags = (target.live ? AFFECT_LIVE : 0) | (target.persistent ? AFFECT_CONFIG : 0);
    const args = domain(new XdrWriter(), ref).int(METADATA_ELEMENT).optionalString(payload).optionalString('nova').optionalString(uri).uint(flags);
    await this.call(PROC.domainSetMetadata, `DomainSetMetadata ${ref.name}`, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const pending = this.connection;
    this.connection = undefined;
    const c = await pending?.catch(() => undefined);
    if (!c?.isOpen) return;
    // Said to the daemon, so that it logs no "client closed the connection" error; not waited on long.
    await c.call(PROC.connectClose, 'ConnectClose', Buffer.alloc(0), 2_000).catch(() => undefined);
    c.close();
  }

  private async listAll(flags: number): Promise<DomainRef[]> {
    const r = await this.call(PROC.connectListAllDomains, 'ConnectListAllDomains', new XdrWriter().int(1).uint(flags));
    return r.array(MAX_DOMAINS, readDomain);
  }

  private call(proc: number, name: string, args: XdrWriter): Promise<XdrReader> {
    if (this.closed) return Promise.reject(new SystemError('the libvirt connection is closed'));
    this.sent++;
    const done = this.connect().then((c) => c.call(proc, name, args.bytes(), this.options.timeoutMs));
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** The open connection, or a new one when there is none or it ended. */
  private async connect(): Promise<RpcConnection> {
    const current = this.connection && (await this.connection.catch(() => undefined));
    if (current?.isOpen) return current;
    this.connection = this.open();
    try {
      return await this.connection;
    } catch (err) {
      this.connection = undefined;
      throw err;
    }
  }

  private async open(): Promise<RpcConnection> {
    const { socket, name, timeoutMs } = this.options;
    const c = await RpcConnection.open(socket, timeoutMs);
    try {
      const auth = (await c.call(PROC.authList, 'AuthList', Buffer.alloc(0), timeoutMs)).array(20, (r) => r.int());
      if (auth.length > 0 && !auth.includes(AUTH_NONE)) {
        if (!auth.includes(AUTH_POLKIT)) throw new LibvirtCallError(`connect ${socket}`, { detail: `the daemon asks for an authentication other than polkit (${auth.join(', ')}): set [libvirt] client = virsh` });
        await c.call(PROC.authPolkit, 'AuthPolkit', Buffer.alloc(0), timeoutMs);
      }
      await c.call(PROC.connectOpen, `ConnectOpen ${name}`, new XdrWriter().optionalString(name).uint(0).bytes(), timeoutMs);
      return c;
    } catch (err) {
      c.close();
      throw err;
    }
  }
}

/** `remote_nonnull_domain`: name, UUID, ID (-1 for a domain that is not running). */
function domain(w: XdrWriter, ref: DomainRef): XdrWriter {
  return w
    .string(ref.name)
    .fixed(Buffer.from(ref.uuid.replace(/-/g, ''), 'hex'))
    .int(ref.active ? (ref.id ?? -1) : -1);
}

function readDomain(r: XdrReader): DomainRef {
  const name = r.string(MAX_NAME_BYTES);
  const hex = r.fixed(16).toString('hex');
  const id = r.int();
  const uuid = parseUuid(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  if (!uuid) throw new SystemError(`libvirt listed a domain without a UUID: ${name}`);
  return id >= 0 ? { uuid, name, active: true, id } : { uuid, name, active: false };
}
