/**
 * How one command's output and outcome are cut out of the two endless streams of a `virsh`
 * reading commands on stdin. Measured on virsh 9.0 (and pinned by test/adapters/virsh/session.libvirt.test.ts):
 *
 * - virsh reads stdin with readline, which echoes every line it reads, prompt first, to stdout;
 *   a line longer than the (dumb) terminal is echoed as scrolled fragments. So the command's
 *   output cannot be found by position, only between markers printed after the echo.
 * - In `virsh -q`, `echo` prints its words with no line feed and commands separated by `;` print
 *   back to back, so in `echo START; CMD; echo END` the output of CMD is exactly what lies
 *   between START and END, whether or not it ends with a line feed.
 * - A failing command prints only on stderr (`error: ...`), virsh goes on with the next command
 *   of the line, and nothing reports a status: a non-empty stderr is the failure.
 * - A line virsh cannot parse (unknown option, missing value) runs none of its commands, so the
 *   markers that tell the command is over come on a second line: `echo FENCE; echo --err FENCE`.
 *   `echo --err` writes `error: FENCE` to stderr after flushing stdout, so once both fences are
 *   in, everything the command wrote is too.
 * - A marker is typed with an empty quoted string inside it (`NIPM.S.''nonce.seq`), so the
 *   readline echo of the line never contains the printed marker; the nonce is random per
 *   process, so no output can contain it either.
 */

const TAGS = { start: 'S', end: 'E', fence: 'F' } as const;

function printed(tag: string, nonce: string, seq: number): string {
  return `NIPM.${tag}.${nonce}.${seq}`;
}

function typed(tag: string, nonce: string, seq: number): string {
  return `NIPM.${tag}.''${nonce}.${seq}`;
}

/** The two lines (each ending in a line feed) that run `command` (already quoted) as command `seq`. */
export function framedLines(command: string, nonce: string, seq: number): string {
  const fence = typed(TAGS.fence, nonce, seq);
  return `echo ${typed(TAGS.start, nonce, seq)}; ${command}; echo ${typed(TAGS.end, nonce, seq)}\necho ${fence}; echo --err ${fence}\n`;
}

export interface Frame {
  /** False when virsh ran nothing of the line (it could not parse it). */
  readonly ran: boolean;
  /** What the command printed on stdout, exactly. */
  readonly stdout: string;
  /** Everything virsh wrote on stderr from the end of the previous command to the fence. */
  readonly stderr: string;
  /** How much of each stream this command used: drop that much before the next one. */
  readonly stdoutUsed: number;
  readonly stderrUsed: number;
}

/** The frame of command `seq` once both fences have arrived, else undefined (wait for more). */
export function takeFrame(stdout: string, stderr: string, nonce: string, seq: number): Frame | undefined {
  const fenceOut = printed(TAGS.fence, nonce, seq);
  const fenceErr = `error: ${fenceOut}\n`;
  const outAt = stdout.indexOf(fenceOut);
  const errAt = stderr.indexOf(fenceErr);
  if (outAt < 0 || errAt < 0) return undefined;
  const region = stdout.slice(0, outAt);
  const start = printed(TAGS.start, nonce, seq);
  const startAt = region.indexOf(start);
  const endAt = startAt < 0 ? -1 : region.indexOf(printed(TAGS.end, nonce, seq), startAt + start.length);
  return {
    ran: endAt >= 0,
    stdout: endAt >= 0 ? region.slice(startAt + start.length, endAt) : '',
    stderr: stderr.slice(0, errAt),
    stdoutUsed: outAt + fenceOut.length,
    stderrUsed: errAt + fenceErr.length,
  };
}

/**
 * Lines virsh writes on stderr that are not the command's failure: the notice that the daemon
 * went away (printed whenever the connection drops, between commands too), the notice that
 * virsh reconnected before running the next command, and the history file it cannot write on
 * exit (the session points its cache directory at /dev/null, see session.ts).
 */
const NOTICES = [
  /^error: Disconnected from .* due to .*$/u,
  /^error: Reconnected to the hypervisor$/u,
  /^error: Failed to create '\/dev\/null\/.*$/u,
];

/** stderr without virsh's notices: what is left is the command's own failure, if any. */
export function commandErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !NOTICES.some((n) => n.test(line)))
    .join('\n');
}
