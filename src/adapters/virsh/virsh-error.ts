/**
 * A virsh command that failed, shaped like the ProcessError of every other process (and execa's
 * errors): the command, how virsh ended, what it said on stderr, whether it ran out of time. The
 * message is one bounded line:
 * `virsh metadata --domain 1b4e... --uri ...: error: failed to get domain '...'`.
 */
import { SystemError } from '../../errors';
import { bounded, describeCommand, stderrLine } from '../process-message';
import type { LibvirtFailure } from '../libvirt/libvirt';

export interface VirshErrorInit {
  /** `['virsh', ...args]` as the caller asked for it. */
  readonly command: readonly string[];
  /** What that command wrote on stderr (`error: ...` lines), or all virsh said before it died. */
  readonly stderr: string;
  /**
   * The status virsh exited with, or, for a command that failed inside a running session, the
   * status the same command run alone would have given (1). Undefined when a signal ended it.
   */
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly timedOut?: boolean;
  /** Said instead of stderr when stderr is empty or beside the point (a timeout, a crash). */
  readonly reason?: string;
}

const MAX_DETAIL = 400;

export class VirshError extends SystemError {
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly failure: LibvirtFailure;

  constructor(init: VirshErrorInit) {
    super(`${describeCommand(init.command)}: ${describeFailure(init)}`);
    this.name = 'VirshError';
    this.command = [...init.command];
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stderr = init.stderr;
    this.timedOut = init.timedOut ?? false;
    // virsh says it in words only (libvirt's messages, as virsh 9.0 prints them).
    this.failure =
      /domain not found|failed to get domain/i.test(init.stderr) ? 'no-domain'
      : /transient/i.test(init.stderr) ? 'transient-refusal'
      : 'other';
  }
}

function describeFailure(init: VirshErrorInit): string {
  const said = stderrLine(init.stderr);
  const detail = init.reason === undefined ? said || 'failed without saying why' : said ? `${init.reason} (${said})` : init.reason;
  return bounded(detail, MAX_DETAIL);
}
