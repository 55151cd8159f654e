import { readSync, writeSync } from 'node:fs';
import { FileReadError } from './adapters/file-read';

/** The process streams a command talks to, passed in so commands run the same in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** All of stdin, or a FileReadError (EFBIG) past `maxBytes`: never more than that in memory. */
  readStdin(maxBytes: number): Promise<Buffer>;
  /** Whether stderr is a terminal: progress is shown only then. */
  readonly interactive: boolean;
}

/** A writer fell back to its stream, whose writes may still be queued when the command is done. */
let streamed = false;

/**
 * Writes to fd 1 or 2 with write(2) directly: setting up `process.stdout` costs milliseconds at
 * start (a pipe, as the hook's stdout is, loads the net module), and Node writes to files, pipes
 * and terminals synchronously anyway. A descriptor someone made non-blocking (EAGAIN) gets the
 * rest through the stream, in order; a reader that went away (EPIPE) gets nothing more.
 */
function writer(fd: 1 | 2, stream: () => NodeJS.WriteStream): (text: string) => void {
  let mode: 'direct' | 'stream' | 'closed' = 'direct';
  return (text) => {
    if (mode === 'closed') return;
    if (mode === 'stream') {
      stream().write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EPIPE') mode = 'closed';
      else if (code === 'EAGAIN') {
        mode = 'stream';
        streamed = true;
        stream().write(bytes.subarray(done));
      } else throw err;
    }
  };
}

/**
 * Ends the process with a command's exit code: at once when everything it wrote went out through
 * write(2), the usual case, since Node's orderly exit first tears its heap down, milliseconds for
 * nothing (docs/design.md, "Cost"); once the streams have drained when a writer fell back to one
 * (process.exit would drop what they still hold).
 */
export function exitWith(code: number): void {
  if (streamed) process.exitCode = code;
  // eslint-disable-next-line no-restricted-syntax -- the one exit, for the entries (src/bin.ts, src/hook-bin.ts) alone
  else process.exit(code);
}

export const processIo: Io = {
  out: writer(1, () => process.stdout),
  err: writer(2, () => process.stderr),
  readStdin,
  // A getter: touching process.stderr creates the stream, which costs start-up time (~5 ms).
  get interactive() {
    return process.stderr.isTTY;
  },
};

/**
 * Blocking reads of fd 0 first: they skip setting up process.stdin (~3 ms on the hook's path).
 * A non-blocking stdin (EAGAIN, at the start or half way) is read on as a stream. Either way at
 * most `maxBytes + 1` bytes are ever held.
 */
async function readStdin(maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const take = (chunk: Buffer) => {
    chunks.push(chunk);
    total += chunk.length;
    if (total > maxBytes) throw new FileReadError('EFBIG', `larger than ${maxBytes} bytes`);
  };
  const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, 1024 * 1024));
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buffer, 0, Math.min(buffer.length, maxBytes + 1 - total), null);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EAGAIN') throw err;
      break;
    }
    if (n === 0) return Buffer.concat(chunks, total);
    take(Buffer.from(buffer.subarray(0, n)));
  }
  try {
    for await (const chunk of process.stdin) take(chunk as Buffer);
  } finally {
    process.stdin.destroy();
  }
  return Buffer.concat(chunks, total);
}
