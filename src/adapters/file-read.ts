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
    return readUpTo(fd, options.maxBytes);
  } finally {
    if (ownFd) closeSync(fd);
  }
}

/** Reads until the end or `maxBytes + 1` bytes (then EFBIG): a file growing while read stays bounded. */
function readUpTo(fd: number, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, 1024 * 1024));
  for (;;) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, maxBytes + 1 - total), null);
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    total += n;
    if (total > maxBytes) throw new FileReadError('EFBIG', `larger than ${maxBytes} bytes`);
  }
  return Buffer.concat(chunks, total);
}

/** UTF-8 text, strictly: invalid bytes are refused (naming where), never turned into U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    // ignoreBOM keeps a byte order mark in the text, as Buffer#toString does: the parsers decide about it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new InputError(source, `not valid UTF-8 text${at === undefined ? '' : ` (byte ${at})`}`);
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  // The longest prefix free of invalid bytes, by bisection; `stream` lets a prefix end inside a
  // character without that counting as an error, so the test is monotonic.
  const clean = (n: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (clean(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo < bytes.length ? lo : undefined;
}
