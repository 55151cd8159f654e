/** Running the program in tests: in this process through runMain, or the built bundle as operators and libvirt run it. */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Io } from '../../src/io';
import { PROGRAMS, programsFileOf, type Program } from '../../scripts/bundle-layout.mjs';
import { node18 } from '../../scripts/system-node.mjs';
import { commands } from '../../src/cli/commands';
import { runMain } from '../../src/main';

export const BUNDLE = fileURLToPath(new URL('../../dist/nova-ipmeta.cjs', import.meta.url));
/** The bundle must run on the machine's Node and on Debian 12's 18.20. */
export const NODES: readonly (readonly [string, string])[] = [
  [`node ${process.version}`, process.execPath],
  ['node v18.20.4', node18],
];

/** The built bundle copied to `target` (a path ending in .cjs), with its programs file. */
export function copyBundle(target: string, from = BUNDLE): void {
  copyFileSync(from, target);
  copyFileSync(programsFileOf(from), programsFileOf(target));
}

/**
 * The built bundle's programs (scripts/bundle-layout.mjs, PROGRAMS): the whole one; the hook's engine
 * alone, which the head runs for `hook`; the offline commands, which it runs for `render` and
 * `inject`; the read commands (`list`, `find`, `history`, `show`); and the XML library, which the
 * head hands the one running at its first `require('@xmldom/xmldom')`. They follow the programs
 * file's first line, of the lengths the head's last line gives.
 */
export function bundlePrograms(file = BUNDLE): Record<BundleProgram, string> & { header: string } {
  const last = /start\(\[(\d+(?:, \d+)*)\]\);\n$/.exec(readFileSync(file, 'latin1'));
  const lengths = (last?.[1] ?? '').split(', ').map(Number);
  const order: readonly BundleProgram[] = [...buildPrograms().map((p) => p.short), 'xml'];
  if (lengths.length !== order.length) throw new Error(`${file}: its last line is not start([${order.map(() => 'n').join(', ')}])`);
  const text = readFileSync(programsFileOf(file), 'latin1');
  const header = text.slice(0, text.indexOf('\n') + 1);
  const programs = { header } as Record<BundleProgram, string> & { header: string };
  let at = header.length;
  lengths.forEach((n, i) => {
    programs[order[i] ?? 'xml'] = text.slice(at, at + n);
    at += n;
  });
  if (at !== text.length) throw new Error(`${file}: the programs' lengths do not add up to the programs file's (${at} against ${text.length})`);
  return programs;
}

/** The tests' short names for the bundle's programs; `xml` is the XML library, the last. */
export type BundleProgram = 'whole' | 'hook' | 'offline' | 'read' | 'xml';
/** Each of the build's PROGRAMS by the name the build gives it (which `doctor` prints). */
const SHORT_NAMES: Readonly<Record<string, Exclude<BundleProgram, 'xml'>>> = { 'whole program': 'whole', 'hook engine': 'hook', 'offline commands': 'offline', 'read commands': 'read' };

export interface CoveredFunction {
  readonly ranges: readonly { readonly startOffset: number; readonly endOffset: number; readonly count: number }[];
}

/**
 * V8's precise coverage of one run of the bundle (`argv` after it), written into `dir`: the
 * functions of each program it compiled, by the program's text (undefined: not compiled).
 */
export function bundleCoverage(argv: readonly string[], dir: string, options: { input?: string; env: NodeJS.ProcessEnv }): (program: string) => CoveredFunction[] | undefined {
  const r = spawnSync(process.execPath, [BUNDLE, ...argv], { input: options.input, env: { ...options.env, NODE_V8_COVERAGE: dir }, encoding: 'utf8' });
  if (r.status === null) throw new Error(`${argv.join(' ')}: killed: ${r.stderr}`);
  const scripts = readdirSync(dir).flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { result: { url: string; functions: CoveredFunction[] }[] }).result);
  // A program's script is the one whose top level spans its text (coverage offsets are offsets into it).
  return (program) => scripts.find((s) => s.url.endsWith('/nova-ipmeta.cjs') && s.functions[0]?.ranges[0]?.endOffset === program.length)?.functions;
}
interface BuildProgram extends Program {
  /** The tests' name for it (SHORT_NAMES). */
  readonly short: Exclude<BundleProgram, 'xml'>;
}

/** The build's PROGRAMS (scripts/bundle-layout.mjs), each with the tests' short name for it. */
export function buildPrograms(): readonly BuildProgram[] {
  return PROGRAMS.map((p) => {
    const short = SHORT_NAMES[p.name];
    if (short === undefined) throw new Error(`scripts/bundle-layout.mjs: test/support/cli.ts has no short name for the program ${JSON.stringify(p.name)}`);
    return { ...p, short };
  });
}

/** The program the bundle's head runs for `argv`: by its first word, as the build's PROGRAMS say. */
export function programFor(argv: readonly string[]): BundleProgram {
  return buildPrograms().find((p) => p.words.includes(argv[0] ?? ''))?.short ?? 'whole';
}

export const fixturePath = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An Io that records what a command prints and feeds it `stdin`. */
export interface CapturedIo extends Io {
  readonly stdout: string;
  readonly stderr: string;
  /** Whether the command read its stdin. */
  readonly stdinRead: boolean;
}

export function captureIo(stdin: string | Buffer = '', options: { interactive?: boolean } = {}): CapturedIo {
  let stdout = '';
  let stderr = '';
  let stdinRead = false;
  return {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    readStdin: (maxBytes) => {
      stdinRead = true;
      const bytes = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
      if (bytes.length > maxBytes) return Promise.reject(Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' }));
      return Promise.resolve(bytes);
    },
    interactive: options.interactive ?? false,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get stdinRead() {
      return stdinRead;
    },
  };
}

/** runMain in this process, as the bundle's entry calls it. */
export async function runInProcess(argv: readonly string[], stdin: string | Buffer = ''): Promise<Run> {
  const io = captureIo(stdin);
  const code = await runMain(argv, io, commands);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

export interface BundleOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** The Node to run it with (default: this one). */
  readonly node?: string;
}

/** The built bundle, in a process of its own, as an operator runs it. */
export function runBundle(argv: readonly string[], options: BundleOptions = {}): Run {
  const r = spawnSync(options.node ?? process.execPath, [BUNDLE, ...argv], {
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
}

/**
 * The built bundle in a process of its own, without blocking this one: for tests whose servers
 * (a fake Neutron) live in this process and must keep answering while the command runs.
 */
export function runBundleAsync(argv: readonly string[], options: BundleOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(options.node ?? process.execPath, [BUNDLE, ...argv], {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => {
      stderr += `(killed after ${options.timeoutMs ?? 120_000} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    });
  });
}
