import { readFileSync } from 'node:fs';

/** The process streams a command talks to, passed in so commands run the same in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  /** Whether stderr is a terminal: progress is shown only then. */
  readonly interactive: boolean;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  // A blocking read of fd 0 skips setting up process.stdin (~3 ms on the hook's path); a
  // non-blocking stdin (EAGAIN) is read as a stream instead.
  readStdin: async () => {
    try {
      return readFileSync(0, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  // A getter: touching process.stderr creates the stream, which costs start-up time (~5 ms).
  get interactive() {
    return process.stderr.isTTY;
  },
};
