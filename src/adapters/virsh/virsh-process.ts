/**
 * One `virsh -q` process reading commands on stdin: what it has written so far on stdout and
 * stderr, and how it ended. The session (session.ts) decides what to send and how to read it.
 */
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { startProcess, type ProcessEnd, type RunningProcess } from '../process';

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
  private readonly child: RunningProcess;

  constructor(virsh: string, uri: string | undefined) {
    this.child = startProcess([virsh, '-q', ...(uri === undefined ? [] : ['--connect', uri])], { stdin: 'pipe', env: SESSION_ENV });
    this.ended = this.child.ended.then((end) => {
      this.end = end;
      this.onChange?.();
      return end;
    });
    watch(this.child.stdout, (text) => {
      this.stdout += text;
      this.onChange?.();
    });
    watch(this.child.stderr, (text) => {
      this.stderr += text;
      this.onChange?.();
    });
  }

  /** Sends `text`; `done` learns whether it reached virsh's input (an error: virsh had closed it). */
  write(text: string, done: (err: Error | null | undefined) => void): void {
    const stdin = this.child.stdin;
    if (this.end !== undefined || !stdin?.writable) {
      done(new Error('virsh has closed its input'));
      return;
    }
    stdin.write(text, done);
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
    this.child.stdin?.end();
  }
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
