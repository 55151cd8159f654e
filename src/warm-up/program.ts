/**
 * What `node nova-ipmeta.cjs --write-code-cache` runs in the whole program (scripts/bundle-loader.cjs)
 * before it saves V8's code cache: the work of the starts an operator or libvirt waits on, on the
 * sample of ./sample: the hook engine's work (its DOM work reconcile's repairs share, its lean
 * reading and comparison reconcile's in-sync decision shares), and `find` over a directory holding
 * that domain, so the cache holds the bytecode those starts need (docs/design.md, "Cost"). Prints
 * nothing; leaves nothing behind.
 */
import { join } from 'node:path';
import { commands } from '../cli/commands';
import { ExitCode } from '../exit-code';
import { warmUpHook } from './hook';
import { sampleIo, withSample } from './sample';

export function warmUp(): Promise<ExitCode> {
  return withSample(async (sample) => {
    await warmUpHook(sample);
    const { runMain } = await import('../main');
    const { config, dir, xmlDir } = sample;
    // The sample's directories are no running daemon's, so find then asks libvirt for its listing
    // (and the XML of what the files do not cover): at a socket that is not there, so that this
    // fails at once (exit 3) rather than reach the host's daemon at install.
    const noDaemon = `qemu:///system?socket=${join(dir, 'no-daemon')}`;
    for (const address of ['11.22.33.44', 'FDF8:F53B:82E4:0:0:0:0:53', '192.0.2.1']) {
      // The sample's own (private, temporary) directory as the state directory: find reads through its
      // index there, and writes none (the files are no daemon's); the host's is not touched.
      await runMain(['find', address, '--live-xml-dir', xmlDir, '--persistent-xml-dir', xmlDir, '--config', config, '--connect', noDaemon, '--state-dir', dir], sampleIo().io, commands);
    }
    return ExitCode.ok;
  });
}
