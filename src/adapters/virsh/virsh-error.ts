/**
 * A virsh command that failed, shaped like execa's errors: the command, how virsh ended, what it
 * said on stderr, whether it ran out of time. The message is one bounded line:
 * `virsh metadata --domain 1b4e... --uri ...: error: failed to get domain '...'`.
 *
 * `exitCode` stays the one every SystemError has (the CLI's exit code 3, which `runMain` returns):
 * virsh's own status is `virshExitCode`.
 */
import { SystemError } from '../../errors';

export interface VirshErrorInit {
  /** `['virsh', ...args]` as the caller asked for it. */
  readonly command: readonly string[];
  /** What that command wrote on stderr (`error: ...` lines), or all virsh said before it died. */
  readonly stderr: string;
  /**
   * The status virsh exited with, or, for a command that failed inside a running session, the
   * status the same command run alone would have given (1). Undefined when a signal ended it.
   */
  readonly virshExitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly timedOut?: boolean;
  /** Said instead of stderr when stderr is empty or beside the point (a timeout, a crash). */
  readonly reason?: string;
  readonly cause?: unknown;
}

const MAX_WORD = 60;
const MAX_COMMAND = 200;
const MAX_DETAIL = 400;

export class VirshError extends SystemError {
  readonly command: readonly string[];
  readonly virshExitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(init: VirshErrorInit) {
    super(`${describeCommand(init.command)}: ${describeFailure(init)}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'VirshError';
    this.command = [...init.command];
    this.virshExitCode = init.virshExitCode;
    this.signal = init.signal;
    this.stderr = init.stderr;
    this.timedOut = init.timedOut ?? false;
  }
}

/** The command for a message: plain words as they are, anything else JSON-quoted, all bounded. */
export function describeCommand(command: readonly string[]): string {
  const words = command.map((w) => (/^[\w@%+=:,./-]+$/u.test(w) ? bounded(w, MAX_WORD) : bounded(JSON.stringify(w), MAX_WORD)));
  return bounded(words.join(' '), MAX_COMMAND);
}

function describeFailure(init: VirshErrorInit): string {
  const said = oneLine(init.stderr);
  const detail = init.reason === undefined ? said || 'failed without saying why' : said ? `${init.reason} (${said})` : init.reason;
  return bounded(detail, MAX_DETAIL);
}

/** stderr's lines joined with `; `, control characters blanked. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/u)
    // eslint-disable-next-line no-control-regex -- control characters must not reach the terminal
    .map((l) => l.replace(/[\u0000-\u001f\u007f]/gu, ' ').trim())
    .filter(Boolean)
    .join('; ');
}

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
