/** The read commands' warm-up (src/read-bin.ts): `find` on the sample (./find.ts). */
import { readCommands } from '../cli/read-commands';
import { warmUpFind } from './find';
import { withSample } from './sample';

export function warmUpRead(): Promise<void> {
  return withSample((sample) => warmUpFind(sample, readCommands));
}
