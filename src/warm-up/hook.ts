/**
 * The hook engine's warm-up: `nova-ipmeta hook` as libvirt runs it, on an incoming migration of
 * the sample domain (a rewrite), then of what it printed (in sync), so that V8's code cache holds
 * the bytecode of both answers and of the way there (the settings, stdin, the cache file). The
 * sample is libvirt's plain XML, which the lean reader reads, changes and prints
 * (core/domain-change.ts); `domain` may hold XML outside that subset, which the XML library's DOM
 * reads, changes and serializes instead. The bundle's hook program (src/hook-bin.ts) runs it on the
 * sample alone; the whole program's warm-up runs it on both, for the lean reading reconcile's
 * in-sync decision shares and the DOM work its repairs share. (`render` and `inject` have a
 * program and a warm-up of their own: ./offline.ts.)
 */
import { runHook } from '../commands/hook/run';
import { DOMAIN, sampleIo, withSample, type Sample } from './sample';

/** The sample with an XML declaration, which sends it to the DOM (core/lean-xml.ts). */
export const DOMAIN_FOR_THE_DOM = `<?xml version="1.0" encoding="UTF-8"?>\n${DOMAIN}`;

export async function warmUpHook({ config }: Sample, domain = DOMAIN): Promise<void> {
  const migrate = async (xml: string): Promise<string> => {
    const { io, out, err } = sampleIo(xml);
    await runHook(['instance-0000002a', 'migrate', 'begin', '-'], io, { NOVA_IPMETA_CONFIG: config });
    if (err() !== '') throw new Error(`warm-up: ${err()}`);
    return out();
  };
  const rewritten = await migrate(domain);
  if (!rewritten.includes('<nova:ports>')) throw new Error('warm-up: the sample was not rewritten');
  if ((await migrate(rewritten)) !== '') throw new Error('warm-up: the rewritten sample was not in sync');
}

/** The hook program's whole warm-up (src/hook-bin.ts), on a sample of its own. */
export function warmUpHookAlone(): Promise<void> {
  return withSample(warmUpHook);
}
