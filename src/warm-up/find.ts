/**
 * `find` as an operator runs it, on the sample: three addresses (an IPv4 address it holds, an IPv6
 * address written long-hand, one it does not hold), through find's index in the sample's own
 * state directory. The whole program's warm-up runs it (its reading of libvirt's files is
 * reconcile's too), and so does the read commands' (src/read-bin.ts).
 */
import { join } from 'node:path';
import type { Command } from '../cli/spec';
import { runMain } from '../main';
import { sampleIo, type Sample } from './sample';

export async function warmUpFind({ config, dir, xmlDir }: Sample, commands: readonly Command[]): Promise<void> {
  // The sample's directories are no running daemon's, so find then asks libvirt for its listing
  // (and the XML of what the files do not cover): at a socket that is not there, so that this
  // fails at once (exit 3) rather than reach the host's daemon at install.
  const noDaemon = `qemu:///system?socket=${join(dir, 'no-daemon')}`;
  for (const address of ['11.22.33.44', 'FDF8:F53B:82E4:0:0:0:0:53', '192.0.2.1']) {
    // The sample's own (private, temporary) directory as the state directory: find reads through its
    // index there, and writes none (the files are no daemon's); the host's is not touched.
    await runMain(['find', address, '--live-xml-dir', xmlDir, '--persistent-xml-dir', xmlDir, '--config', config, '--connect', noDaemon, '--state-dir', dir], sampleIo().io, commands);
  }
}
