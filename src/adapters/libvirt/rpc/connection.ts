/**
 * One connection to a libvirt daemon's UNIX socket, speaking its RPC (libvirt's
 * src/rpc/virnetprotocol.x): each message is a 4-byte length (itself included), a header of six
 * words (program, version, procedure, type, serial, status), then the XDR-encoded body. A call
 * gets the reply that carries its serial; replies may come in any order, and messages that are
 * not replies to the remote program (events, keepalive, streams) are never asked for and are
 * passed over.
 *
 * A call that gets no reply within its time fails with `timedOut` and ends the connection (a
 * daemon that hangs on one call would hang the next); so does anything that does not decode.
 * When the connection ends, every call in flight fails; the owner (./remote.ts) opens a new one
 * for the next call.
 */
import { createConnection, type Socket } from 'node:net';
import { oneLine, SystemError } from '../../../errors';
import { errnoCode } from '../../os-error';
import type { LibvirtFailure } from '../libvirt';
import { XdrError, XdrReader, XdrWriter } from './xdr';

const REMOTE_PROGRAM = 0x20008086;
const REMOTE_PROTOCOL_VERSION = 1;

const TYPE_CALL = 0;
const TYPE_REPLY = 1;
const STATUS_OK = 0;
const STATUS_ERROR = 1;

const HEADER_BYTES = 4 + 6 * 4;
/** libvirt's VIR_NET_MESSAGE_MAX (32 MiB) and the length word: no reply of libvirt's is larger. */
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024 + 4;
/** REMOTE_STRING_MAX in libvirt 9: the longest string a reply may carry. */
export const MAX_STRING_BYTES = 4 * 1024 * 1024;

const MAX_DETAIL = 400;

/** What libvirt said when a call failed (its virError). */
interface RemoteErrorInit {
  /** virErrorNumber: 42 VIR_ERR_NO_DOMAIN, 55 VIR_ERR_OPERATION_INVALID... */
  readonly code: number;
  readonly detail: string;
}

/** A failure of one call or of the connection, shaped like VirshError: what ran, and why it failed. */
export class LibvirtCallError extends SystemError {
  /** virErrorNumber when the daemon answered with an error; undefined when there was no answer. */
  readonly code: number | undefined;
  /** What the daemon said, or why there was no answer. */
  readonly detail: string;
  readonly timedOut: boolean;
  readonly failure: LibvirtFailure;

  constructor(call: string, init: { code?: number; detail: string; timedOut?: boolean }) {
    // One bounded line, whatever the daemon said (a domain name may hold anything).
    const detail = oneLine(init.detail).slice(0, MAX_DETAIL);
    super(`libvirt ${oneLine(call).slice(0, MAX_DETAIL)}: ${detail}`);
    this.name = 'LibvirtCallError';
    this.code = init.code;
    this.detail = detail;
    this.timedOut = init.timedOut ?? false;
    this.failure =
      init.code === VIR_ERR_NO_DOMAIN ? 'no-domain'
      : init.code === VIR_ERR_OPERATION_INVALID && /transient/i.test(init.detail) ? 'transient-refusal'
      : 'other';
  }
}

// virErrorNumber values the tool tells apart (libvirt's virerror.h).
const VIR_ERR_NO_DOMAIN = 42;
const VIR_ERR_OPERATION_INVALID = 55;

interface Pending {
  readonly name: string;
  readonly resolve: (body: XdrReader) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class RpcConnection {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private received: Buffer[] = [];
  private receivedBytes = 0;
  /** Why the connection ended; undefined while it is open. */
  private ended: string | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.take(chunk);
    });
    socket.on('error', (err) => {
      this.end(`connection failed (${errnoCode(err) ?? err.message})`);
    });
    socket.on('close', () => {
      this.end('the daemon closed the connection');
    });
  }

  /** Connects to the socket at `path`, within `timeoutMs`. */
  static open(path: string, timeoutMs: number): Promise<RpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LibvirtCallError(`connect ${path}`, { detail: `no connection within ${timeoutMs} ms`, timedOut: true }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RpcConnection(socket, path));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new LibvirtCallError(`connect ${path}`, { detail: `cannot connect (${errnoCode(err) ?? err.message})` }));
      });
    });
  }

  get isOpen(): boolean {
    return this.ended === undefined;
  }

  /** Calls procedure `proc` (its name for messages) with the encoded `args`; resolves to the reply's body. */
  call(proc: number, name: string, args: Buffer, timeoutMs: number): Promise<XdrReader> {
    if (this.ended !== undefined) return Promise.reject(new LibvirtCallError(name, { detail: this.ended }));
    const serial = (this.serial = (this.serial + 1) >>> 0);
    const message = new XdrWriter()
      .uint(HEADER_BYTES + args.length)
      .uint(REMOTE_PROGRAM)
      .uint(REMOTE_PROTOCOL_VERSION)
      .int(proc)
      .int(TYPE_CALL)
      .uint(serial)
      .int(STATUS_OK)
      .bytes();
    return new Promise<XdrReader>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new LibvirtCallError(name, { detail: `no answer within ${timeoutMs} ms: connection to ${this.where} closed`, timedOut: true }));
        this.end(`a call got no answer within ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending.set(serial, { name, resolve, reject, timer });
      this.socket.write(Buffer.concat([message, args]));
    });
  }

  /** Ends the connection; calls in flight fail. */
  close(): void {
    this.end('the connection was closed');
  }

  private end(why: string): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    this.socket.destroy();
    for (const [serial, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(serial);
      p.reject(new LibvirtCallError(p.name, { detail: `${why} (${this.where})` }));
    }
  }

  private take(chunk: Buffer): void {
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    while (this.ended === undefined && this.receivedBytes >= 4) {
      const head = this.received.length === 1 ? (this.received[0] as Buffer) : Buffer.concat(this.received);
      this.received = [head];
      const length = head.readUInt32BE(0);
      if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) {
        this.end(`a message of ${length} bytes is not libvirt's`);
        return;
      }
      if (head.length < length) return;
      const message = head.subarray(0, length);
      const rest = head.subarray(length);
      this.received = rest.length > 0 ? [rest] : [];
      this.receivedBytes = rest.length;
      try {
        this.dispatch(message);
      } catch (err) {
        if (!(err instanceof XdrError)) throw err;
        this.end(err.message);
      }
    }
  }

  private dispatch(message: Buffer): void {
    const r = new XdrReader(message.subarray(4));
    const program = r.uint();
    r.uint(); // version
    r.int(); // procedure
    const type = r.int();
    const serial = r.uint();
    const status = r.int();
    if (program !== REMOTE_PROGRAM || type !== TYPE_REPLY) return;
    const p = this.pending.get(serial);
    if (!p) return;
    // The error read before the call leaves the pending ones: one that does not parse ends the
    // connection (take), which then fails this call with the others, rather than never.
    const error = status === STATUS_OK ? undefined : status === STATUS_ERROR ? remoteError(r) : { detail: `a reply with status ${status}` };
    this.pending.delete(serial);
    clearTimeout(p.timer);
    if (error === undefined) p.resolve(r);
    else p.reject(new LibvirtCallError(p.name, error));
  }
}

/** `remote_error`: only its code and message matter here; the rest is read past. */
function remoteError(r: XdrReader): RemoteErrorInit {
  const code = r.int();
  r.int(); // domain (the part of libvirt that failed)
  const message = r.optionalString(MAX_STRING_BYTES);
  return { code, detail: message ?? `error ${code}` };
}
