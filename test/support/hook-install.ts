/**
 * hooks/qemu installed as install.sh installs it (its variable lines rewritten), and run as
 * libvirt runs it: `qemu NAME OP SUBOP EXTRA`, the XML on stdin, an environment of HOME, LC_ALL,
 * PATH and PWD only. Shared by the unit tests, the libvirt tests and the benchmark.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUNDLE } from './cli';

export const HOOK_SOURCE = fileURLToPath(new URL('../../hooks/qemu', import.meta.url));

export interface HookPaths {
  /** What the hook runs as `nova-ipmeta`. */
  readonly novaIpmeta: string;
  readonly config: string;
  /** Where the hook logs: the tests read it there, so syslog is never used, even where /dev/log exists. */
  readonly log: string;
}

/** Writes hooks/qemu to `target` (mode 0755) with its variable lines set, as install.sh does. */
export function installHook(target: string, paths: HookPaths): void {
  let text = readFileSync(HOOK_SOURCE, 'utf8');
  for (const [name, value] of [
    ['NOVA_IPMETA', paths.novaIpmeta],
    ['NOVA_IPMETA_CONFIG', paths.config],
    ['NOVA_IPMETA_LOG', paths.log],
    ['NOVA_IPMETA_SYSLOG', 'no'],
  ] as const) {
    const line = new RegExp(`^${name}=.*$`, 'gm');
    const found = text.match(line)?.length ?? 0;
    if (found !== 1) throw new Error(`hooks/qemu: expected one line ${name}=..., found ${found}`);
    text = text.replace(line, () => `${name}=${shellQuote(value)}`);
  }
  writeFileSync(target, text);
  chmodSync(target, 0o755);
}

/** An executable that runs the built bundle with the given Node, as /usr/sbin/nova-ipmeta would. */
export function writeBundleWrapper(target: string, node: string = process.execPath): void {
  writeFileSync(target, `#!/bin/sh\nexec ${shellQuote(node)} ${shellQuote(BUNDLE)} "$@"\n`);
  chmodSync(target, 0o755);
}

/** An executable shell script with this body. */
export function writeScript(target: string, body: string): void {
  writeFileSync(target, `#!/bin/sh\n${body}\n`);
  chmodSync(target, 0o755);
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The environment libvirt gives a hook. */
export function hookEnv(path = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): NodeJS.ProcessEnv {
  return { HOME: '/root', LC_ALL: 'C', PATH: path, PWD: '/' };
}

export interface HookRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when writing stdin failed (e.g. EPIPE: the hook did not drain it). */
  readonly error: Error | undefined;
}

/** Runs the installed hook synchronously, as libvirt does for every operation. */
export function runHookScript(hook: string, argv: readonly string[], input = '', env = hookEnv()): HookRun {
  const r = spawnSync(hook, [...argv], { input, env, cwd: '/', encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}
