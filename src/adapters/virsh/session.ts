/**
 * One long-running `virsh` for a whole run of the CLI: a command sent as one line to it costs
 * about 1.4 ms where a `virsh` process per call costs about 72 ms (DESIGN §1).
 *
 * - Calls are queued: one command at a time, so concurrent callers never interleave.
 * - Each command is framed by markers (framing.ts explains why and how): its exact stdout, and
 *   failure when it wrote anything on stderr.
 * - A command that takes longer than its timeout kills virsh and fails with `timedOut`; a virsh
 *   that died (killed, crashed, could not connect) fails the command in flight; either way the
 *   next call starts a fresh virsh. A daemon restarted between two commands needs nothing: virsh
 *   reconnects by itself before the next one.
 */
import { InputError, SystemError } from '../../errors';
import { commandErrors, framedLines, takeFrame } from './framing';
import { commandLine } from './quote';
import { VirshError } from './virsh-error';
import { VirshProcess, type ProcessEnd } from './virsh-process';

export interface VirshSessionOptions {
  /** `--connect URI`; undefined lets virsh choose (LIBVIRT_DEFAULT_URI, then its own default). */
  uri?: string | undefined;
  /** Default time allowed to one command, in ms (30 s). */
  commandTimeoutMs?: number;
  /** The virsh binary, a name looked up in PATH or a path (tests). */
  virsh?: string;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * NOVA_IPMETA_VIRSH_TIMEOUT=<seconds> changes the default (a slow host, or a test of a hung
 * virsh); anything but a positive number is ignored.
 */
function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env['NOVA_IPMETA_VIRSH_TIMEOUT']);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_COMMAND_TIMEOUT_MS;
}

/** Commands that would end the session or point it elsewhere behind the caller's back. */
const SESSION_COMMANDS = new Set(['quit', 'exit', 'connect']);

/** How long close() waits for virsh to exit by itself once its input is closed. */
const CLOSE_GRACE_MS = 2_000;

export class VirshSession {
  private readonly uri: string | undefined;
  private readonly virsh: string;
  private readonly timeoutMs: number;
  private process: VirshProcess | undefined;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private commands = 0;
  private started = 0;

  constructor(opts: VirshSessionOptions = {}) {
    this.uri = opts.uri;
    this.virsh = opts.virsh ?? 'virsh';
    this.timeoutMs = opts.commandTimeoutMs ?? defaultTimeoutMs();
  }

  /** Commands sent to virsh so far, failed ones included. */
  get commandsRun(): number {
    return this.commands;
  }

  /** virsh processes started so far: 1 for a healthy session, one more after each restart. */
  get processesStarted(): number {
    return this.started;
  }

  /** The running virsh's PID, if one runs. */
  get pid(): number | undefined {
    return this.process?.end === undefined ? this.process?.pid : undefined;
  }

  /**
   * Runs one virsh command (`['metadata', '--domain', uuid, ...]`) and resolves to its stdout.
   * Rejects with InputError when an argument cannot be sent (nothing is sent then), VirshError
   * when the command failed, timed out or virsh died, SystemError when virsh cannot be started.
   */
  async run(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    // Everything up to the queueing runs synchronously, so calls queue in the order they were made.
    if (args[0] !== undefined && SESSION_COMMANDS.has(args[0])) throw new InputError('virsh command', `${args[0]} is not allowed in a session`);
    const line = commandLine(args);
    if (this.closing) throw new SystemError('the virsh session is closed');
    const command = ['virsh', ...args];
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const result = this.queue.then(() => this.exchange(command, line, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Lets queued commands finish, then ends virsh. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.queue.then(async () => {
      const p = this.process;
      this.process = undefined;
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

  private exchange(command: readonly string[], line: string, timeoutMs: number): Promise<string> {
    this.commands++;
    return new Promise<string>((resolve, reject) => {
      let current: VirshProcess | undefined;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (current) current.onChange = undefined;
        outcome();
      };
      const timer = setTimeout(() => {
        settle(() => {
          if (current) this.discard(current);
          const stderr = current ? commandErrors(current.stderr) : '';
          reject(new VirshError({ command, stderr, signal: 'SIGKILL', timedOut: true, reason: `no answer within ${timeoutMs} ms: virsh killed` }));
        });
      }, timeoutMs);

      const attempt = async (mayRetry: boolean): Promise<void> => {
        const p = await this.live();
        if (settled) return;
        current = p;
        const seq = ++this.seq;
        // Whether virsh has the line: only then can its death mean the command was in flight.
        let delivered = false;
        p.onChange = () => {
          const frame = takeFrame(p.stdout, p.stderr, p.nonce, seq);
          if (frame) {
            p.consume(frame.stdoutUsed, frame.stderrUsed);
            const errors = commandErrors(frame.stderr);
            settle(() => {
              if (frame.ran && errors === '') resolve(frame.stdout);
              else reject(new VirshError({ command, stderr: errors, virshExitCode: 1, ...(errors ? {} : { reason: 'virsh did not run the command' }) }));
            });
          } else if (p.end && (delivered || p.end.spawnErrorCode !== undefined)) {
            const end = p.end;
            settle(() => {
              this.discard(p);
              reject(this.endError(command, end, p.stderr));
            });
          }
        };
        p.write(framedLines(line, p.nonce, seq), (err) => {
          if (settled) return;
          if (!err) {
            delivered = true;
            p.onChange?.();
            return;
          }
          // virsh had closed its input (it died while idle, before we noticed): it never saw the
          // command, so running it in a fresh virsh is safe. Once.
          p.onChange = undefined;
          this.discard(p);
          if (mayRetry) {
            attempt(false).catch(fail);
          } else {
            void p.ended.then((end) => {
              settle(() => {
                reject(this.endError(command, end, p.stderr));
              });
            });
          }
        });
      };
      const fail = (e: unknown): void => {
        settle(() => {
          reject(e instanceof Error ? e : new Error(String(e)));
        });
      };
      attempt(true).catch(fail);
    });
  }

  /** The running virsh, or a new one when there is none or it has ended. */
  private async live(): Promise<VirshProcess> {
    if (this.process && this.process.end === undefined) return this.process;
    this.process = await VirshProcess.start(this.virsh, this.uri);
    this.started++;
    return this.process;
  }

  /** Forgets `p` (the next command starts a new virsh) and makes sure it is gone. */
  private discard(p: VirshProcess): void {
    if (this.process === p) this.process = undefined;
    if (p.end === undefined) p.kill();
  }

  private endError(command: readonly string[], end: ProcessEnd, stderr: string): Error {
    if (end.spawnErrorCode === 'ENOENT') {
      return new SystemError(`${this.virsh} not found: install libvirt-clients`, { cause: end.message });
    }
    if (end.spawnErrorCode !== undefined) return new SystemError(`cannot start ${this.virsh}: ${end.message ?? end.spawnErrorCode}`);
    const how = end.signal === undefined ? `exit status ${end.exitCode ?? '?'}` : `killed by ${end.signal}`;
    return new VirshError({
      command,
      stderr: commandErrors(stderr),
      virshExitCode: end.exitCode,
      signal: end.signal,
      reason: `virsh ended (${how}) before answering`,
    });
  }
}
