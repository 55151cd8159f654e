/**
 * The hook engine's warm-up: `nova-ipmeta hook` as libvirt runs it, on an incoming migration of
 * the sample domain (a rewrite), then of what it printed (in sync: the lean reading and the
 * comparison with the cache that reconcile also decides by), so that V8's code cache holds the
 * bytecode of both answers and of the way there (the settings, stdin, the cache file). The
 * bundle's hook program (src/hook-bin.ts) runs it alone; the whole program's warm-up runs it too,
 * for the DOM work and the lean reading reconcile shares with it. (`render` and `inject` have a
 * program and a warm-up of their own: ./offline.ts.)
 */
import { runHook } from '../commands/hook/run';
import { DOMAIN, sampleIo, withSample, type Sample } from './sample';

export async function warmUpHook({ config }: Sample): Promise<void> {
  const migrate = async (xml: string): Promise<string> => {
    const { io, out, err } = sampleIo(xml);
    await runHook(['instance-0000002a', 'migrate', 'begin', '-'], io, { NOVA_IPMETA_CONFIG: config });
    if (err() !== '') throw new Error(`warm-up: ${err()}`);
    return out();
  };
  const rewritten = await migrate(DOMAIN);
  if (!rewritten.includes('<nova:ports>')) throw new Error('warm-up: the sample was not rewritten');
  if ((await migrate(rewritten)) !== '') throw new Error('warm-up: the rewritten sample was not in sync');
}

/** The hook program's whole warm-up (src/hook-bin.ts), on a sample of its own. */
export function warmUpHookAlone(): Promise<void> {
  return withSample(warmUpHook);
}
