/**
 * Every failure the tool reports is one of these typed values; `runMain` maps them to the exit
 * codes documented in the README and the man page, in one place.
 */
export const ExitCode = {
  ok: 0,
  /** `--check` found drift, or `doctor` found a problem. */
  drift: 1,
  /** Bad input or usage: the operator can fix it by changing what was passed. */
  badInput: 2,
  /** libvirt or the system failed (daemon down, permission, disk full...). */
  system: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class IpmetaError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Bad input: `where` names the file, argument or JSON path, the message says what is wrong. */
export class InputError extends IpmetaError {
  readonly exitCode = ExitCode.badInput;
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(where ? `${where}: ${problem}` : problem);
    this.name = 'InputError';
  }
}

/** A system or libvirt failure that the operator must look at; not a bug in the input. */
export class SystemError extends IpmetaError {
  readonly exitCode = ExitCode.system;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SystemError';
  }
}

/** A message that may span lines, as the one line a log or a terminal line gets. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
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
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
