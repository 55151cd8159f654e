/**
 * What `node nova-ipmeta.cjs --write-code-cache` runs in the whole program (scripts/bundle-loader.cjs)
 * before it saves V8's code cache: the work of the starts an operator or libvirt waits on, on the
 * sample of ./sample: the hook engine's DOM work (which `inject` and `render` share), reconcile's
 * reading of a domain file, and `find` over a directory holding that domain, so the cache holds
 * the bytecode those starts need (docs/design.md, "Cost"). Prints nothing; leaves nothing behind.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePorts } from '../core/inject';
import { readDomain } from '../core/domain';
import { parseLeanXml } from '../core/lean-xml';
import { ExitCode } from '../exit-code';
import type { Io } from '../io';
import { warmUpHook } from './hook';
import { DOMAIN, UUID, withSample } from './sample';

const QUIET: Io = { out: () => undefined, err: () => undefined, readStdin: () => Promise.resolve(Buffer.alloc(0)), interactive: false };

export function warmUp(): Promise<ExitCode> {
  return withSample(async (sample) => {
    await warmUpHook(sample);
    // reconcile's in-sync reading of a domain file: without a DOM, compared with the cache.
    const lean = parseLeanXml(DOMAIN);
    const cached = sample.cache.read(UUID);
    if (!lean || cached.kind !== 'ok' || comparePorts(readDomain(lean, 'warm-up'), cached.vifs).kind !== 'changed') throw new Error('warm-up: the sample was not compared');
    const { runMain } = await import('../main');
    const config = join(sample.dir, 'nova-ipmeta.conf');
    writeFileSync(config, '');
    const { xmlDir } = sample;
    for (const address of ['11.22.33.44', 'FDF8:F53B:82E4:0:0:0:0:53', '192.0.2.1']) {
      await runMain(['find', address, '--live-xml-dir', xmlDir, '--persistent-xml-dir', xmlDir, '--config', config], QUIET);
    }
    return ExitCode.ok;
  });
}
