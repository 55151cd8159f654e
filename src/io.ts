import { readSync } from 'node:fs';
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

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
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
