/**
 * Every failure the tool reports is one of these typed values. Each carries a `kind`, never an
 * exit code: `runMain` (src/main.ts) alone turns kinds into exit codes and messages, in one place.
 */

/**
 * - `usage`: the command line is wrong (unknown option, missing argument);
 * - `input`: what was passed is wrong (a file, a value, a JSON path), said with where;
 * - `not-found`: the thing asked about does not exist (no domain, no cache file, no match);
 * - `system`: libvirt, the disk, Neutron or another part of the system failed.
 */
export type ErrorKind = 'usage' | 'input' | 'not-found' | 'system';

export abstract class IpmetaError extends Error {
  abstract readonly kind: ErrorKind;
}

export class UsageError extends IpmetaError {
  readonly kind = 'usage';
  /** The command whose help to point at, when the error is about one. */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input: `where` names the file, argument or JSON path, `problem` says what is wrong. */
export class InputError extends IpmetaError {
  readonly kind = 'input';
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(where ? `${where}: ${problem}` : problem);
    this.name = 'InputError';
  }
}

/** What was asked for does not exist: the answer is "no", not a failure. */
export class NotFoundError extends IpmetaError {
  readonly kind = 'not-found';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A system or libvirt failure that the operator must look at; not a bug in the input. */
export class SystemError extends IpmetaError {
  readonly kind = 'system';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SystemError';
  }
}

/** The message of anything thrown, for a log line or a report; our own errors' messages are one line already. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether `err` is a failure the tool expects and reports (ours, or a plain system call's errno
 * error), as opposed to a bug, which must reach runMain as an internal error.
 */
export function isExpectedFailure(err: unknown): err is Error {
  return err instanceof IpmetaError || (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string');
}

/**
 * A message that may span lines, as the one line a log or a terminal line gets: line breaks and
 * every other control character (ESC, BEL, C1...) become spaces, so nothing a domain name or a
 * server said can move the cursor or ring the bell.
 */
export function oneLine(text: string): string {
  // (?:\s*): no star just before the closing slash (the bundle carries the program in a comment).
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return text.replace(/\s*[\n\r](?:\s*)/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** Shows a user-supplied value inside a one-line message: quoted, escaped, and bounded. */
export function quote(value: unknown, max = 80): string {
  let text: string;
  try {
    // JSON.stringify(undefined) is undefined, not a string, whatever its declared type says.
    const json: unknown = JSON.stringify(value);
    text = typeof json === 'string' ? json : String(value);
  } catch {
    // circular or BigInt: String(), unless that throws too (an object like {"toString": 1})
    try {
      text = String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  // JSON escapes C0 controls but not DEL or C1 (U+0080-U+009F), which terminals act on.
   
  text = text.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
