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
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  // A getter: touching process.stderr creates the stream, which costs start-up time (~5 ms).
  get interactive() {
    return process.stderr.isTTY;
  },
};
