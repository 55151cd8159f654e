/**
 * Turning an argv array into one line for a `virsh` that reads commands on stdin, so that no
 * argument, however odd, can end the line, split into two arguments, or start another command.
 *
 * virsh 9.0 reads each line with GNU readline, then splits it with its own tokenizer
 * (vshCommandStringGetArg): blanks and `;` separate, `\` escapes outside single quotes, `'...'`
 * is literal, `"..."` allows `\` escapes, and a token that starts with `#` is a comment. So every
 * argument is sent single-quoted, with each `'` written as `'\''`: inside single quotes nothing
 * else is special, `;`, `#`, `"`, `\`, `$(...)` and blanks included.
 *
 * What quoting cannot protect, and is therefore refused before anything is sent:
 * - a line feed or carriage return: virsh reads line by line, the rest would be a new command;
 * - any other control character (NUL, TAB, ESC, DEL...): readline reads them as editing keys
 *   (TAB completes, ^A moves to the start of the line, DEL deletes), not as text (the XML the
 *   tool sends carries them as character references: core/metadata-payload.ts);
 * - a lone UTF-16 surrogate: it has no UTF-8 form and would reach libvirt as U+FFFD;
 * - more than 128 KiB: the limit of one argument of a `virsh` started with argv (the kernel's
 *   MAX_ARG_STRLEN), kept so that every command the tool sends could also be run by hand. virsh
 *   reading stdin took a 300 KB argument when measured, but readline reads it a byte at a time
 *   (about 2 µs a byte: 128 KiB costs 0.3 s, a nova payload of 2 KB about 5 ms).
 *
 * A quoted argument that starts with `--` is still read by virsh as an option name; callers pass
 * user values only as the value of a named option (`--domain X`), which virsh takes as it is.
 */
import { InputError, quote } from '../../errors';

/** The longest argument accepted, in UTF-8 bytes. */
export const MAX_ARG_BYTES = 128 * 1024;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `arg` cannot be sent to virsh, or undefined when it can. */
export function argProblem(arg: string): string | undefined {
  const control = CONTROL.exec(arg);
  if (control) {
    const code = control[0].charCodeAt(0);
    if (code === 0x0a || code === 0x0d) return 'contains a line break (virsh reads commands line by line)';
    return `contains the control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  }
  if (LONE_SURROGATE.test(arg)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  const bytes = Buffer.byteLength(arg, 'utf8');
  if (bytes > MAX_ARG_BYTES) return `is ${bytes} bytes long, more than virsh's limit of ${MAX_ARG_BYTES} bytes per argument`;
  return undefined;
}

/** One argument as a single virsh token. Throws InputError for what cannot be sent (see above). */
export function quoteArg(arg: string): string {
  const problem = argProblem(arg);
  if (problem !== undefined) throw new InputError(`virsh argument ${quote(arg, 60)}`, problem);
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** A whole command (name first) as one line for virsh, without the line feed. */
export function commandLine(args: readonly string[]): string {
  if (args.length === 0 || args[0] === '') throw new InputError('virsh command', 'no command given');
  return args.map(quoteArg).join(' ');
}
