/**
 * One long-running `virsh` for a whole run of the CLI: a command sent as one line to it costs a
 * millisecond or two where a `virsh` process per call costs tens (docs/design.md, "Cost").
 *
 * - Calls are queued: one command at a time, so concurrent callers never interleave.
 * - Each command is framed by markers (framing.ts explains why and how): its exact stdout, and
 *   failure when it wrote anything on stderr.
 * - A command that takes longer than its timeout kills virsh and fails with `timedOut`; a virsh
 *   that died (killed, crashed, could not connect) fails the command in flight; either way the
 *   next call starts a fresh virsh. A daemon restarted between two commands needs nothing: virsh
 *   reconnects by itself before the next one.
 *
 * One command's life is an explicit sequence (`exchange`): get a virsh (start one if there is
 * none), send the framed line, then wait for the first of: its frame, virsh's end, the deadline.
 * A line that never reached virsh (it had died while idle) is sent once more to a fresh one.
 */
import { InputError, SystemError } from '../../errors';
import { commandErrors, framedLines, takeFrame, type Frame } from './framing';
import { commandLine } from './quote';
import { VirshError } from './virsh-error';
import { VirshProcess } from './virsh-process';
import { defaultTimeoutMs } from '../libvirt/libvirt';
import type { ProcessEnd } from '../process';

export interface VirshSessionOptions {
  /** `--connect URI`; undefined lets virsh choose (LIBVIRT_DEFAULT_URI, then its own default). */
  uri?: string | undefined;
  /** Time allowed to one command, in ms (defaultTimeoutMs). */
  commandTimeoutMs?: number;
  /** The virsh binary, a name looked up in PATH or a path (tests). */
  virsh?: string;
}

/** Commands that would end the session or point it elsewhere behind the caller's back. */
const SESSION_COMMANDS = new Set(['quit', 'exit', 'connect']);

/** How long close() waits for virsh to exit by itself once its input is closed. */
const CLOSE_GRACE_MS = 2_000;

/** How sending one framed line ended. */
type Delivery =
  | { readonly kind: 'answered'; readonly frame: Frame }
  /** virsh had closed its input before the line reached it: it never saw the command. */
  | { readonly kind: 'not-delivered'; readonly end: Promise<ProcessEnd> }
  /** virsh ended after it had the line (or could not start at all). */
  | { readonly kind: 'died'; readonly end: ProcessEnd }
  | { readonly kind: 'timed-out' };

/** What the session has cost so far: reported by reconcile (a libvirt call is a command here). */
export interface SessionStats {
  /** Commands sent to virsh, failed ones included. */
  readonly commands: number;
  /** virsh processes started: 1 for a healthy session, one more after each restart. */
  readonly processes: number;
}

export class VirshSession {
  private readonly uri: string | undefined;
  private readonly virsh: string;
  private readonly timeoutMs: number;
  /** The virsh commands go to; undefined until the first command, and after it died. */
  private current: VirshProcess | undefined;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private counts = { commands: 0, processes: 0 };

  constructor(opts: VirshSessionOptions = {}) {
    this.uri = opts.uri;
    this.virsh = opts.virsh ?? 'virsh';
    this.timeoutMs = opts.commandTimeoutMs ?? defaultTimeoutMs();
  }

  get stats(): SessionStats {
    return { ...this.counts };
  }

  /**
   * Runs one virsh command (`['metadata', '--domain', uuid, ...]`) and resolves to its stdout.
   * Rejects with InputError when an argument cannot be sent (nothing is sent then), VirshError
   * when the command failed, timed out or virsh died, SystemError when virsh cannot be started.
   */
  run(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    // Everything up to the queueing runs synchronously, so calls queue in the order they were made.
    if (args[0] !== undefined && SESSION_COMMANDS.has(args[0])) {
      return Promise.reject(new InputError('virsh command', `${args[0]} is not allowed in a session`));
    }
    let line: string;
    try {
      line = commandLine(args);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.closing) return Promise.reject(new SystemError('the virsh session is closed'));
    const command = ['virsh', ...args];
    const result = this.queue.then(() => this.exchange(command, line, opts.timeoutMs ?? this.timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Lets queued commands finish, then ends virsh. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.queue.then(async () => {
      const p = this.current;
      this.current = undefined;
      if (!p || p.end) return;
      p.closeInput();
      const timer = setTimeout(() => {
        p.kill();
      }, CLOSE_GRACE_MS);
      await p.ended;
      clearTimeout(timer);
    });
    return this.closing;
  }

  private async exchange(command: readonly string[], line: string, timeoutMs: number): Promise<string> {
    this.counts.commands++;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const p = this.live();
      const seq = ++this.seq;
      const delivery = await deliver(p, framedLines(line, p.nonce, seq), seq, deadline);
      switch (delivery.kind) {
        case 'answered': {
          p.consume(delivery.frame.stdoutUsed, delivery.frame.stderrUsed);
          const errors = commandErrors(delivery.frame.stderr);
          if (delivery.frame.ran && errors === '') return delivery.frame.stdout;
          throw new VirshError({ command, stderr: errors, exitCode: 1, ...(errors ? {} : { reason: 'virsh did not run the command' }) });
        }
        case 'timed-out': {
          this.discard(p);
          throw new VirshError({ command, stderr: commandErrors(p.stderr), signal: 'SIGKILL', timedOut: true, reason: `no answer within ${timeoutMs} ms: virsh killed` });
        }
        case 'died':
          this.discard(p);
          throw this.endError(command, delivery.end, p.stderr);
        case 'not-delivered':
          // virsh died while idle, before we noticed: it never saw the command, so running it in
          // a fresh virsh is safe. Once.
          this.discard(p);
          if (attempt >= 2) throw this.endError(command, await delivery.end, p.stderr);
      }
    }
  }

  /** The running virsh, or a new one when there is none or it has ended. */
  private live(): VirshProcess {
    if (this.current && this.current.end === undefined) return this.current;
    this.current = new VirshProcess(this.virsh, this.uri);
    this.counts.processes++;
    return this.current;
  }

  /** Forgets `p` (the next command starts a new virsh) and makes sure it is gone. */
  private discard(p: VirshProcess): void {
    if (this.current === p) this.current = undefined;
    if (p.end === undefined) p.kill();
  }

  private endError(command: readonly string[], end: ProcessEnd, stderr: string): Error {
    if (end.spawnErrorCode === 'ENOENT') return new SystemError(`${this.virsh} not found: install libvirt-clients`);
    if (end.spawnErrorCode !== undefined) return new SystemError(`cannot start ${this.virsh}: ${end.spawnErrorCode}`);
    const how = end.signal === undefined ? `exit status ${end.exitCode ?? '?'}` : `killed by ${end.signal}`;
    return new VirshError({
      command,
      stderr: commandErrors(stderr),
      exitCode: end.exitCode,
      signal: end.signal,
      reason: `virsh ended (${how}) before answering`,
    });
  }
}

/** Sends one framed command and waits for the first of: its frame, virsh's end, the deadline. */
function deliver(p: VirshProcess, text: string, seq: number, deadline: number): Promise<Delivery> {
  return new Promise<Delivery>((resolve) => {
    // Whether virsh has the line: only then can its death mean the command was in flight.
    let delivered = false;
    const settle = (d: Delivery): void => {
      clearTimeout(timer);
      p.onChange = undefined;
      resolve(d);
    };
    const timer = setTimeout(() => {
      settle({ kind: 'timed-out' });
    }, Math.max(0, deadline - Date.now()));
    p.onChange = () => {
      const frame = takeFrame(p.stdout, p.stderr, p.nonce, seq);
      if (frame) settle({ kind: 'answered', frame });
      else if (p.end && (delivered || p.end.spawnErrorCode !== undefined)) settle({ kind: 'died', end: p.end });
    };
    p.write(text, (err) => {
      if (err) settle({ kind: 'not-delivered', end: p.ended });
      else {
        delivered = true;
        p.onChange?.();
      }
    });
  });
}
