/**
 * Reading a file the tool did not write, safely: never blocking (a FIFO), never endless
 * (/dev/zero), never more than asked for, a regular file only, and, where the file must be the
 * one named (textfile metrics, cache files), not through a symbolic link. The very file opened
 * is the one checked: no window between the check and the read.
 *
 * Failures are thrown as errors carrying an errno-like `code` (`ENOENT`, `ELOOP`, `ENOTREG`,
 * `EFBIG`...), so that each caller says in its own words what it was reading and why.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors';

export class FileReadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

export interface ReadOptions {
  /** Larger files are refused (EFBIG) before anything is read. */
  readonly maxBytes: number;
  /** Refuse a symbolic link at the last component (ELOOP). */
  readonly noFollow?: boolean;
}

export function readRegularFile(path: string | number, options: ReadOptions): Buffer {
  const ownFd = typeof path === 'string';
  const fd = ownFd ? openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0)) : path;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new FileReadError(stats.isDirectory() ? 'EISDIR' : 'ENOTREG', 'not a regular file');
    if (stats.size > options.maxBytes) throw new FileReadError('EFBIG', `larger than ${options.maxBytes} bytes`);
    return readUpTo(fd, options.maxBytes, stats.size);
  } finally {
    if (ownFd) closeSync(fd);
  }
}

/**
 * Reads until the end or `maxBytes + 1` bytes (then EFBIG): a file growing while read stays
 * bounded. Into one buffer of the size fstat gave and a byte more, so that the end shows in one
 * read and nothing is copied; a file that grows, or gives no size (/proc), takes more.
 */
function readUpTo(fd: number, maxBytes: number, size: number): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(maxBytes, size > 0 ? size : 64 * 1024) + 1);
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      if (total > maxBytes) throw new FileReadError('EFBIG', `larger than ${maxBytes} bytes`);
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
      buffer.copy(bigger, 0, 0, total);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, total, buffer.length - total, null);
    if (n === 0) return buffer.subarray(0, total);
    total += n;
  }
}

/** UTF-8 text, strictly: invalid bytes are refused (naming where), never turned into U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  // Buffer's decoder puts U+FFFD for every invalid sequence, so text without one came from valid
  // bytes. Only text that has one (invalid bytes, or a U+FFFD written as such) takes the strict
  // decoder, whose first use is slow on Node 18, where the hook pays it at every start
  // (docs/design.md, "What Node 18 loads for the engine").
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  try {
    // ignoreBOM keeps a byte order mark in the text, as Buffer#toString does: the parsers decide about it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new InputError(source, `not valid UTF-8 text${at === undefined ? '' : ` (byte ${at})`}`);
  }
}

/** Where the first character that is not UTF-8 starts (a truncated one at the end included). */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  const decodes = (n: number, stream: boolean) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream });
      return true;
    } catch {
      return false;
    }
  };
  // The longest prefix free of invalid bytes, by bisection; `stream` lets a prefix end inside a
  // character without that counting as an error, so the test is monotonic.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (decodes(mid, true)) lo = mid;
    else hi = mid - 1;
  }
  // That prefix may end inside the character that turned out bad: it starts where the prefix
  // last decoded whole, at most three bytes back.
  for (let start = lo; start >= Math.max(0, lo - 3); start--) if (decodes(start, false)) return start;
  return undefined;
}
