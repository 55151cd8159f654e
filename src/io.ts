import { readUpTo } from './adapters/file-read';

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
  // A blocking read of fd 0 skips setting up process.stdin (~3 ms on the hook's path); a
  // non-blocking stdin (EAGAIN) is read as a stream instead, bounded the same way.
  readStdin: async (maxBytes) => {
    try {
      return readUpTo(0, maxBytes);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EAGAIN') throw err;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        process.stdin.destroy();
        const { FileReadError } = await import('./adapters/file-read');
        throw new FileReadError('EFBIG', `larger than ${maxBytes} bytes`);
      }
    }
    return Buffer.concat(chunks, total);
  },
  // A getter: touching process.stderr creates the stream, which costs start-up time (~5 ms).
  get interactive() {
    return process.stderr.isTTY;
  },
};
