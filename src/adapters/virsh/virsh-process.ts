/**
 * One `virsh -q` process reading commands on stdin: what it has written so far on stdout and
 * stderr, and how it ended. The session (session.ts) decides what to send and how to read it.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';

export interface ProcessEnd {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** The spawn error's code (`ENOENT`, `EACCES`) when virsh could not be started at all. */
  readonly spawnErrorCode: string | undefined;
  readonly message: string | undefined;
}

/**
 * The environment that makes readline and virsh predictable, on top of the caller's:
 * - INPUTRC=/dev/null: no key bindings or macros from /etc/inputrc or ~/.inputrc touch our input;
 * - LC_ALL=C.UTF-8 and an empty LANGUAGE: readline takes UTF-8 bytes as text (in the C locale it
 *   turns bytes >= 0x80 into Meta key presses), and virsh's messages are untranslated, so
 *   `metadata not found` and friends can be recognised;
 * - TERM=dumb: no terminal escape sequences in the echo;
 * - XDG_CACHE_HOME=/dev/null: virsh would otherwise read root's interactive history at start and
 *   overwrite it at exit with our commands; it cannot create a directory under /dev/null, says so
 *   once on stderr at exit, and writes nothing. (It also means virsh here could not autostart a
 *   qemu:///session daemon; the tool talks to qemu:///system.)
 */
const SESSION_ENV = { INPUTRC: '/dev/null', LC_ALL: 'C.UTF-8', LANGUAGE: '', TERM: 'dumb', XDG_CACHE_HOME: '/dev/null' } as const;

export class VirshProcess {
  /** Random per process: output cannot contain a marker it does not know. */
  readonly nonce = randomBytes(12).toString('hex');
  stdout = '';
  stderr = '';
  /** Set once virsh has exited and both its output streams have been read to the end. */
  end: ProcessEnd | undefined;
  /** Called after every change of stdout, stderr or end. */
  onChange: (() => void) | undefined;
  readonly ended: Promise<ProcessEnd>;

  private constructor(
    private readonly child: ChildLike,
    ended: Promise<ProcessEnd>,
  ) {
    this.ended = ended.then((end) => {
      this.end = end;
      this.onChange?.();
      return end;
    });
    watch(child.stdout, (text) => {
      this.stdout += text;
      this.onChange?.();
    });
    watch(child.stderr, (text) => {
      this.stderr += text;
      this.onChange?.();
    });
    // Writing to a virsh that has just died fails with EPIPE; its end is reported through `ended`.
    child.stdin.on('error', () => undefined);
  }

  /** Starts `virsh -q [--connect uri]`; execa is loaded only now, off the hook's path. */
  static async start(virsh: string, uri: string | undefined): Promise<VirshProcess> {
    const { execa } = await import('execa');
    const args = ['-q', ...(uri === undefined ? [] : ['--connect', uri])];
    const child = execa(virsh, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false, env: SESSION_ENV });
    const ended = child.then(
      (r): ProcessEnd => ({
        exitCode: r.exitCode,
        signal: r.signal,
        spawnErrorCode: r.failed && r.exitCode === undefined && r.signal === undefined && typeof r.code === 'string' ? r.code : undefined,
        message: r.failed ? r.originalMessage : undefined,
      }),
    );
    return new VirshProcess(child, ended);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends `text`; `done` learns whether it reached virsh's input (an error: virsh had closed it). */
  write(text: string, done: (err: Error | null | undefined) => void): void {
    if (this.end !== undefined || !this.child.stdin.writable) {
      done(new Error('virsh has closed its input'));
      return;
    }
    this.child.stdin.write(text, done);
  }

  /** Drops what a finished command used from the front of both buffers. */
  consume(stdoutUsed: number, stderrUsed: number): void {
    this.stdout = this.stdout.slice(stdoutUsed);
    this.stderr = this.stderr.slice(stderrUsed);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** End of input: virsh exits by itself. */
  closeInput(): void {
    this.child.stdin.end();
  }
}

interface ChildLike {
  readonly pid?: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal: NodeJS.Signals): boolean;
}

/** Feeds a stream's text to `onText`, never splitting a UTF-8 character across calls. */
function watch(stream: Readable, onText: (text: string) => void): void {
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text) onText(text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest) onText(rest);
  });
}
