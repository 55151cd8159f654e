/**
 * The one way the tool starts a process (virsh, flock, systemctl...): an argv array, never a shell
 * string, the caller's environment plus what it adds. Two shapes:
 *
 * - `startProcess`: a long-running child whose streams the caller reads and writes (the virsh
 *   session, the event stream); `ended` settles once it has exited and its output is read.
 * - `runProcess`: run to completion with a time limit, output collected (bounded); resolves with
 *   the result, or rejects with a ProcessError shaped like execa's (command, exit code, signal,
 *   stderr, timedOut) when it could not start, ran out of time, or, unless `allowFailure`, exited
 *   non-zero. `runProcessSync` is the same for a call that never waits on anything (flock
 *   --nonblock): it blocks the event loop, and spares the stream set-up an asynchronous child
 *   costs (a few milliseconds, on the timer's every run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { SystemError } from '../errors';
import { describeCommand, describeEnd } from './process-message';

export interface ProcessEnd {
  /** undefined when a signal ended it, or it never started. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  /** The spawn error's code (`ENOENT`, `EACCES`) when the program could not be started at all. */
  readonly spawnErrorCode: string | undefined;
}

export interface StartOptions {
  /** Added to (and overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: 'pipe' | 'ignore';
  /** Descriptors handed to the child as its fd 3, 4, ... (flock(1) locks the one it gets). */
  readonly extraFds?: readonly number[];
}

export interface RunningProcess {
  readonly command: readonly string[];
  /** undefined when the program could not be started (see `ended`). */
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly ended: Promise<ProcessEnd>;
  kill(signal?: NodeJS.Signals): void;
}

export function startProcess(argv: readonly string[], options: StartOptions = {}): RunningProcess {
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new Error('startProcess: empty command');
  const child: ChildProcess = spawn(program, args, {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    env: options.env ? { ...process.env, ...options.env } : process.env,
  });
  let spawnErrorCode: string | undefined;
  const ended = new Promise<ProcessEnd>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failed spawn leaves no process behind to 'close'; later errors (a failed kill) do not end it.
      if (child.pid === undefined) {
        spawnErrorCode = err.code ?? err.message;
        resolve({ exitCode: undefined, signal: undefined, spawnErrorCode });
      }
    });
    child.once('close', (code, signal) => {
      resolve({ exitCode: code ?? undefined, signal: signal ?? undefined, spawnErrorCode });
    });
  });
  // Writing to a child that has just died fails with EPIPE; its end is reported through `ended`.
  child.stdin?.on('error', () => undefined);
  return {
    command: [...argv],
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    ended,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

export interface RunOptions extends StartOptions {
  /** Killed (SIGKILL) after this long: a ProcessError with `timedOut`. */
  readonly timeoutMs: number;
  readonly input?: string;
  /** Resolve with a non-zero exit status instead of rejecting. */
  readonly allowFailure?: boolean;
}

export interface ProcessResult extends ProcessEnd {
  readonly command: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
}

/** What a run keeps of each stream: enough for any answer the tool parses, bounded against a flood. */
const MAX_OUTPUT = 16 * 1024 * 1024;

export async function runProcess(argv: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const p = startProcess(argv, { ...options, stdin: options.input === undefined ? 'ignore' : 'pipe' });
  const stdout = collect(p.stdout);
  const stderr = collect(p.stderr);
  const deadline = { passed: false };
  const timer = setTimeout(() => {
    deadline.passed = true;
    p.kill('SIGKILL');
  }, options.timeoutMs);
  if (options.input !== undefined) p.stdin?.end(options.input);
  const end = await p.ended;
  clearTimeout(timer);
  return settled({ command: p.command, ...end, stdout: stdout(), stderr: stderr() }, deadline.passed, options);
}

export function runProcessSync(argv: readonly string[], options: Omit<RunOptions, 'input' | 'env'>): ProcessResult {
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new Error('runProcessSync: empty command');
  const r = spawnSync(program, args, {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT,
  });
  const spawnErrorCode = r.error && r.pid === 0 ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : undefined;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const result: ProcessResult = {
    command: [...argv],
    exitCode: r.status ?? undefined,
    signal: r.signal ?? undefined,
    spawnErrorCode,
    // null, whatever the types say, when the program could not be started
    stdout: (r.stdout as Buffer | null)?.toString('utf8') ?? '',
    stderr: (r.stderr as Buffer | null)?.toString('utf8') ?? '',
  };
  return settled(result, timedOut, options);
}

/** The result, or the ProcessError for a program that could not start, ran out of time, or (unless allowed) failed. */
function settled(result: ProcessResult, timedOut: boolean, options: Pick<RunOptions, 'timeoutMs' | 'allowFailure'>): ProcessResult {
  if (result.spawnErrorCode !== undefined || timedOut || (result.exitCode !== 0 && !options.allowFailure)) {
    throw new ProcessError(result, timedOut ? `no answer within ${options.timeoutMs} ms: killed` : undefined);
  }
  return result;
}

function collect(stream: Readable): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    if (size >= MAX_OUTPUT) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

/**
 * A process that failed, shaped like execa's error: the command, how it ended, what it said. The
 * message is one bounded line: `flock --wait 1 3: exit status 1 (flock: 3: Bad file descriptor)`.
 */
export class ProcessError extends SystemError {
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly spawnErrorCode: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(result: ProcessResult, reason?: string) {
    super(`${describeCommand(result.command)}: ${describeEnd(result, reason)}`);
    this.name = 'ProcessError';
    this.command = result.command;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.spawnErrorCode = result.spawnErrorCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.timedOut = reason !== undefined;
  }
}
