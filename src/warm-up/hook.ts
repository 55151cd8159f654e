/**
 * The hook engine's warm-up: `nova-ipmeta hook` as libvirt runs it, on an incoming migration of
 * the sample domain (a rewrite), then of what it printed (in sync), so that V8's code cache holds
 * the bytecode of both answers and of the way there (the settings, stdin, the cache file). The
 * bundle's hook program (src/hook-bin.ts) runs it alone; the whole program's warm-up runs it too,
 * for the DOM work `inject` and `render` share with it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHook } from '../commands/hook/run';
import type { Io } from '../io';
import { DOMAIN, withSample, type Sample } from './sample';

export async function warmUpHook({ dir }: Sample): Promise<void> {
  const config = join(dir, 'hook.conf');
  writeFileSync(config, `[DEFAULT]\nstate_dir = ${dir}\n`);
  const env = { NOVA_IPMETA_CONFIG: config };
  const migrate = async (xml: string): Promise<string> => {
    let out = '';
    let err = '';
    const io: Io = { out: (text) => (out += text), err: (text) => (err += text), readStdin: () => Promise.resolve(Buffer.from(xml)), interactive: false };
    await runHook(['instance-0000002a', 'migrate', 'begin', '-'], io, env);
    if (err !== '') throw new Error(`warm-up: ${err}`);
    return out;
  };
  const rewritten = await migrate(DOMAIN);
  if (!rewritten.includes('<nova:ports>')) throw new Error('warm-up: the sample was not rewritten');
  if ((await migrate(rewritten)) !== '') throw new Error('warm-up: the rewritten sample was not in sync');
}

/** The hook program's whole warm-up (src/hook-bin.ts), on a sample of its own. */
export function warmUpHookAlone(): Promise<void> {
  return withSample(warmUpHook);
}
