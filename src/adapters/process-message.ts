/**
 * How a command and its ending are said in an error message (ProcessError, VirshError): one line,
 * bounded, whatever the command was given or printed. Apart from ./process.ts so that a message
 * can be made where no process is ever started (loading child_process costs a start).
 */
import { oneLine } from '../errors';
import type { ProcessEnd } from './process';

const MAX_WORD = 60;
const MAX_COMMAND = 200;
const MAX_DETAIL = 400;

/** The command for a message: plain words as they are, anything else JSON-quoted, all bounded. */
export function describeCommand(command: readonly string[]): string {
  const words = command.map((w) => bounded(/^[\w@%+=:,./-]+$/u.test(w) ? w : JSON.stringify(w), MAX_WORD));
  return bounded(words.join(' '), MAX_COMMAND);
}

/** `exit status 1 (what it said on stderr)`, `killed by SIGTERM`, `not found`... */
export function describeEnd(end: ProcessEnd & { readonly stderr: string }, reason?: string): string {
  const said = stderrLine(end.stderr);
  let how: string;
  if (reason !== undefined) how = reason;
  else if (end.spawnErrorCode === 'ENOENT') how = 'not found';
  else if (end.spawnErrorCode !== undefined) how = `cannot be started (${end.spawnErrorCode})`;
  else if (end.signal !== undefined) how = `killed by ${end.signal}`;
  else how = `exit status ${end.exitCode ?? '?'}`;
  return bounded(said ? `${how} (${said})` : how, MAX_DETAIL);
}

/** stderr's lines joined with `; `, control characters blanked. */
export function stderrLine(text: string): string {
  return text
    .split(/\r?\n/u)
    .map((l) => oneLine(l).trim())
    .filter(Boolean)
    .join('; ');
}

export function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
