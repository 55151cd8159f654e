/**
 * A throwaway Debian 12 host for the host tests: test/support/host/system.sh boots Debian's systemd (or,
 * for the cron path, no systemd at all) as PID 1 of its own namespaces on a fresh overlay of a
 * cached debootstrap root, with its own network namespace (lo only), and takes it down again,
 * checking that nothing of it is left. Packages are installed inside from a layer downloaded
 * beforehand (`apt-get install --no-download`), so a scenario needs no network.
 *
 *   const h = HostSystem.boot('deb', { packages: HostSystem.packages(), roBinds: [[REPO, '/srv/nova-ipmeta']] });
 *   h.install(...SYSTEMD_HOST);
 *   ...
 *   h.down();   // fails the test if a process, mount or cgroup of it is left
 *
 * Node built-ins only; every call is synchronous (spawnSync), but waits are awaited (`until`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..', '..');
export const SYSTEM_SH = join(HERE, 'system.sh');

/** What the scenarios install: a systemd host's libvirt, and a host without systemd (sysv scripts, cron). */
export const SYSTEMD_HOST = ['libvirt-daemon-system', 'qemu-system-x86', 'libvirt-clients', 'nodejs'];
export const CRON_HOST = ['libvirt-daemon-system', 'libvirt-daemon-system-sysv', 'qemu-system-x86', 'libvirt-clients', 'nodejs', 'cron', 'libfaketime'];
/** Both, downloaded once into one layer (cached with the root). */
export const HOST_PACKAGES = [SYSTEMD_HOST.join(' '), CRON_HOST.join(' ')];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
}

function run(argv: readonly string[], opts: RunOptions = {}): Run {
  const [cmd = 'false', ...args] = argv;
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 300_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + (r.error ? `${r.error.message}\n` : '') };
}

function must(argv: readonly string[], opts?: RunOptions): string {
  const r = run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

/** Milliseconds since `start` (a `process.hrtime.bigint()`), for the PROVE lines. */
export function msSince(start: bigint): number {
  return Number((process.hrtime.bigint() - start) / 1_000_000n);
}

const booted = new Set<HostSystem>();
process.on('exit', () => {
  for (const h of booted) spawnSync('bash', [SYSTEM_SH, 'down', h.name], { stdio: 'ignore', timeout: 120_000 });
});

export class HostSystem {
  private constructor(readonly name: string) {}

  /** The package layer for HOST_PACKAGES (built on first use: the root too, if need be). */
  static packages(): string {
    return must(['bash', SYSTEM_SH, 'packages', ...HOST_PACKAGES], { timeoutMs: 30 * 60_000 }).trim();
  }

  static boot(name: string, opts: { init?: 'systemd' | 'none'; packages?: string; roBinds?: [string, string][] } = {}): HostSystem {
    const argv = ['bash', SYSTEM_SH, 'boot', name, '--init', opts.init ?? 'systemd'];
    if (opts.packages) argv.push('--packages', opts.packages);
    for (const [src, dest] of opts.roBinds ?? []) argv.push('--ro-bind', src, dest);
    const h = new HostSystem(name);
    booted.add(h);
    must(argv, { timeoutMs: 120_000 });
    return h;
  }

  /** Runs argv inside, as root; never throws for a non-zero exit. */
  exec(argv: readonly string[], opts?: RunOptions): Run {
    return run(['bash', SYSTEM_SH, 'exec', this.name, ...argv], opts);
  }

  /** Runs argv inside; throws with its stderr when it exits non-zero. */
  ok(argv: readonly string[], opts?: RunOptions): string {
    return must(['bash', SYSTEM_SH, 'exec', this.name, ...argv], opts);
  }

  /** A shell script inside (`sh -c SCRIPT sh ARGS...`); never throws. */
  sh(script: string, ...args: string[]): Run {
    return this.exec(['sh', '-c', script, 'sh', ...args]);
  }

  /** Writes a file inside. */
  write(path: string, content: string, mode = '0644'): void {
    must(['bash', SYSTEM_SH, 'exec', this.name, 'sh', '-c', 'umask 077 && mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"', 'sh', path, mode], {
      input: content,
    });
  }

  /** `apt-get install --no-download` of packages from the layer it was booted with. */
  install(...packages: string[]): string {
    return this.ok(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-download', '--no-install-recommends', ...packages], {
      timeoutMs: 15 * 60_000,
    });
  }

  /** systemctl's one-word answer (is-active, is-enabled...). */
  systemctl(...args: string[]): string {
    return this.exec(['systemctl', ...args]).stdout.trim();
  }

  /**
   * Polls `check` until it returns a value other than undefined (then returns it), at most
   * `timeoutMs`; throws with `what` and the last observation otherwise.
   */
  async until<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${what}: not within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Powers it off and removes it; throws if anything of it is left behind. */
  down(): void {
    booted.delete(this);
    must(['bash', SYSTEM_SH, 'down', this.name], { timeoutMs: 120_000 });
  }
}

/** Whether this machine can boot such systems at all: undefined if so, else the one-line reason. */
export function hostUnsupported(): string | undefined {
  const r = run(['bash', SYSTEM_SH, 'check']);
  return r.code === 0 ? undefined : r.stderr.trim() || `system.sh check exited ${r.code}`;
}
