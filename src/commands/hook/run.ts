import type { Io } from '../../io';

/** Placeholder until the hook issue: prints nothing, so libvirt keeps its XML. */
export function runHook(_argv: readonly string[], _io: Io): Promise<number> {
  return Promise.resolve(0);
}
