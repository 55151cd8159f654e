/**
 * What `node nova-ipmeta.cjs --write-code-cache` runs in the whole program (scripts/bundle-loader.cjs)
 * before it saves V8's code cache: the work of the starts an operator or libvirt waits on, on the
 * sample of ./sample: the hook engine's work (its DOM work `inject` and `render` share, its lean
 * reading and comparison reconcile's in-sync decision shares), and `find` over a directory holding
 * that domain, so the cache holds the bytecode those starts need (docs/design.md, "Cost"). Prints
 * nothing; leaves nothing behind.
 */
import { ExitCode } from '../exit-code';
import { warmUpHook } from './hook';
import { sampleIo, withSample } from './sample';

export function warmUp(): Promise<ExitCode> {
  return withSample(async (sample) => {
    await warmUpHook(sample);
    const { runMain } = await import('../main');
    const { config, xmlDir } = sample;
    for (const address of ['11.22.33.44', 'FDF8:F53B:82E4:0:0:0:0:53', '192.0.2.1']) {
      await runMain(['find', address, '--live-xml-dir', xmlDir, '--persistent-xml-dir', xmlDir, '--config', config], sampleIo().io);
    }
    return ExitCode.ok;
  });
}
