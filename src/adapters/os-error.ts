/**
 * A failed system call, reported as the one-line SystemError the tool prints: what it was doing,
 * the path, and the errno by name and meaning, e.g.
 * `cannot write /var/lib/nova-ipmeta/network_info/x.json: ENOSPC (no space left on device)`.
 */
import { quote, SystemError } from '../errors';
import { systemErrorMap } from './system-error-map.cjs';

/** `ENOSPC (no space left on device)`, or the plain message for errors that carry no errno. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.errno === 'number') {
    const known = systemErrorMap().get(e.errno);
    if (known) return `${known[0]} (${known[1]})`;
  }
  if (typeof e.code === 'string') return e.code;
  return err instanceof Error ? err.message : String(err);
}

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A path as shown in a message: as is, unless it holds characters that would break the line. */
export function showPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(path) ? quote(path, 400) : path;
}

/** `cannot <action> <path>: <errno>`. */
export function systemFailure(action: string, path: string, err: unknown): SystemError {
  return new SystemError(`cannot ${action} ${showPath(path)}: ${errnoText(err)}`, { cause: err });
}
