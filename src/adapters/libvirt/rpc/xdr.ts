/**
 * XDR (RFC 4506), the encoding of libvirt's RPC: big-endian 32-bit words, strings and opaque data
 * as a length then the bytes padded to a word, optional values as a 0/1 word then the value.
 * Only what the procedures in ./remote.ts need.
 */
import { SystemError } from '../../../errors';

export class XdrWriter {
  private readonly parts: Buffer[] = [];

  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }

  uint(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.parts.push(b);
    return this;
  }

  /** Fixed-length opaque data (a UUID's 16 bytes). */
  fixed(bytes: Buffer): this {
    this.parts.push(bytes, Buffer.alloc(padding(bytes.length)));
    return this;
  }

  /** `remote_nonnull_string`: UTF-8, length first. */
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.uint(bytes.length).fixed(bytes);
  }

  /** `remote_string`, which may be null. */
  optionalString(s: string | null): this {
    return s === null ? this.uint(0) : this.uint(1).string(s);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A reply that does not decode: the daemon speaks another protocol, or the message is cut. */
export class XdrError extends SystemError {
  constructor(what: string) {
    super(`libvirt's reply does not decode: ${what}`);
    this.name = 'XdrError';
  }
}

export class XdrReader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  int(): number {
    this.need(4, 'an int');
    const n = this.buf.readInt32BE(this.at);
    this.at += 4;
    return n;
  }

  uint(): number {
    this.need(4, 'an unsigned int');
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }

  fixed(length: number): Buffer {
    this.need(length + padding(length), `${length} bytes`);
    const b = this.buf.subarray(this.at, this.at + length);
    this.at += length + padding(length);
    return b;
  }

  /** A string of at most `max` bytes, strict UTF-8 (libvirt's strings are). */
  string(max: number): string {
    const length = this.uint();
    if (length > max) throw new XdrError(`a string of ${length} bytes (at most ${max})`);
    const bytes = this.fixed(length);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new XdrError('a string that is not UTF-8');
    }
  }

  optionalString(max: number): string | null {
    return this.bool('a string') ? this.string(max) : null;
  }

  /** The 0/1 word in front of an optional value. */
  bool(what: string): boolean {
    const flag = this.uint();
    if (flag > 1) throw new XdrError(`${flag} where ${what} may follow (0 or 1)`);
    return flag === 1;
  }

  /** A variable-length array of at most `max` elements. */
  array<T>(max: number, element: (r: XdrReader) => T): T[] {
    const count = this.uint();
    if (count > max) throw new XdrError(`an array of ${count} (at most ${max})`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(element(this));
    return items;
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.buf.length) throw new XdrError(`it ends where ${what} should be`);
  }
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}
