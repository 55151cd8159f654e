/**
 * libvirt's domain events as one long-running `virsh event --all --loop --timestamp` process, its
 * own, apart from the command session. It ends (status 1) when the daemon stops; whoever opened
 * it decides whether and when to open another.
 */
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { parseEventLine, type VirshEvent } from './event-line';

export interface EventStreamEnd {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** The last thing virsh said on stderr, e.g. `error: failed to connect to the hypervisor`. */
  readonly message: string;
}

export interface EventStream {
  readonly pid: number | undefined;
  /** Settles once the process has exited and its output has been read, however it ended. */
  readonly ended: Promise<EventStreamEnd>;
  /** Kills the process and waits for it to be gone. */
  stop(): Promise<EventStreamEnd>;
}

export interface EventStreamOptions {
  /** undefined: virsh's own default. */
  readonly uri: string | undefined;
  readonly onEvent: (event: VirshEvent) => void;
  /** The virsh binary (tests). */
  readonly virsh?: string;
}

const STDERR_KEEP = 2048;

export function openEventStream(options: EventStreamOptions): EventStream {
  const args = [...(options.uri === undefined ? [] : ['--connect', options.uri]), 'event', '--all', '--loop', '--timestamp'];
  const child = execa(options.virsh ?? 'virsh', args, {
    stdin: 'ignore',
    buffer: false,
    reject: false,
    // The event lines are translated messages: parse them in the C locale.
    env: { LC_ALL: 'C' },
    forceKillAfterDelay: 3000,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
  });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    const event = parseEventLine(line);
    if (event) options.onEvent(event);
  });
  const linesClosed = new Promise<void>((resolve) => lines.once('close', resolve));
  const ended = child.then(async (result) => {
    await linesClosed;
    const message = stderr.trim().split('\n').filter(Boolean).pop() ?? result.originalMessage ?? '';
    return { exitCode: result.exitCode, signal: result.signal, message } satisfies EventStreamEnd;
  });
  return {
    pid: child.pid,
    ended,
    stop: async () => {
      child.kill('SIGTERM');
      return ended;
    },
  };
}
