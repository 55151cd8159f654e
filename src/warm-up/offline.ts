/**
 * The offline commands' warm-up (src/offline-bin.ts): `render` and `inject` as an operator runs
 * them, on the sample, so that V8's code cache holds the bytecode of the CLI's way to them and of
 * their work (the lean reader's document: the sample is libvirt's plain XML).
 */
import { offlineCommands } from '../cli/offline-commands';
import { ExitCode } from '../exit-code';
import { runMain } from '../main';
import { sampleIo, withSample } from './sample';

export function warmUpOffline(): Promise<void> {
  return withSample(async ({ domainFile, networkInfo }) => {
    for (const argv of [
      ['render', networkInfo],
      ['inject', domainFile, networkInfo],
    ]) {
      const { io, out, err } = sampleIo();
      const code = await runMain(argv, io, offlineCommands);
      if (code !== ExitCode.ok || !out().includes('<nova:ports')) throw new Error(`warm-up: ${argv[0]}: exit ${code}: ${err()}`);
    }
  });
}
