/**
 * libvirt's domain events as one long-running `virsh event --all --loop --timestamp` process, its
 * own, apart from the command session. It ends (status 1) when the daemon stops; whoever opened
 * it decides whether and when to open another.
 */
import { createInterface } from 'node:readline';
import { startProcess } from '../process';
import { parseEventLine, type VirshEvent } from './event-line';

export interface EventStreamEnd {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** The last thing virsh said on stderr, e.g. `error: failed to connect to the hypervisor`. */
  readonly message: string;
}

export interface EventStream {
  /** undefined when virsh could not be started at all (`ended` says why). */
  readonly pid: number | undefined;
  /** Settles once the process has exited and its output has been read, however it ended. */
  readonly ended: Promise<EventStreamEnd>;
  /** Ends the process (SIGTERM, then SIGKILL after a grace period) and waits for it to be gone. */
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
const KILL_GRACE_MS = 3000;

export function openEventStream(options: EventStreamOptions): EventStream {
  const virsh = options.virsh ?? 'virsh';
  const argv = [virsh, ...(options.uri === undefined ? [] : ['--connect', options.uri]), 'event', '--all', '--loop', '--timestamp'];
  // The event lines are translated messages: parse them in the C locale.
  const child = startProcess(argv, { env: { LC_ALL: 'C' } });
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
  const ended = child.ended.then(async (end) => {
    await linesClosed;
    const said = stderr.trim().split('\n').filter(Boolean).pop();
    const message = said ?? (end.spawnErrorCode === undefined ? '' : `cannot start ${virsh}: ${end.spawnErrorCode}`);
    return { exitCode: end.exitCode, signal: end.signal, message } satisfies EventStreamEnd;
  });
  return {
    pid: child.pid,
    ended,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, KILL_GRACE_MS);
      try {
        return await ended;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
