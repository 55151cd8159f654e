/**
 * A private, throwaway libvirt daemon with TCG QEMU guests, for tests (docs/design.md, "The test harness"). Wraps
 * libvirtd.sh (daemon in its own mount namespace, ROOT's directories bind-mounted over
 * /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt) and guest-kernel.sh. Node
 * built-ins only.
 *
 *   const d = await startPrivateLibvirt({ prepare: (root) => installHook(join(root, 'etc/hooks')) });
 *   cleanupOnExit(d);
 *   await d.virshOk('define', file);
 *   ...
 *   await d.stop();
 *
 * A kernel guest (guestXml with `kernel`) writes its serial console to
 * `<root>/log/qemu/<uuid>.console.log`; the line `nova-ipmeta test guest: init up` there means it
 * is up and answers ACPI hot-unplug (about 3-5 s under TCG).
 *
 * Tap device names are host-wide (there is no network namespace): give every guest interface a
 * name no other test or daemon on the machine uses at the same time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeXml, interfaceXml as builtInterfaceXml } from './builders';

export interface VirshResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface PrivateLibvirt {
  root: string; // temp dir for this daemon
  uri: string; // qemu:///system?socket=<root>/run/libvirt-sock
  liveXmlDir: string; // <root>/run/qemu  (what the daemon sees as /run/libvirt/qemu)
  persistentXmlDir: string; // <root>/etc/qemu  (what the daemon sees as /etc/libvirt/qemu)
  hooksDir: string; // <root>/etc/hooks (what the daemon sees as /etc/libvirt/hooks)
  virsh(...args: string[]): Promise<VirshResult>; // one `virsh -c uri` process per call; never throws for a non-zero exit
  virshOk(...args: string[]): Promise<string>; // throws an Error with the args and stderr when exit != 0
  nsexec(argv: string[], input?: string): Promise<VirshResult>; // run inside the daemon's mount namespace
  restart(): Promise<void>; // daemon only, guests keep running
  stop(): Promise<void>; // guests then daemon, then removes root; idempotent
}

export interface GuestSpec {
  name: string;
  uuid: string;
  interfaces: { mac: string; dev: string }[]; // dev is the tap name, e.g. tap567a4527-b0
  metadata?: string; // raw XML placed inside <metadata> (e.g. a nova:instance element), may be empty
  memoryMiB?: number; // default 48 (192 with a kernel)
  kernel?: { kernel: string; initrd: string }; // boot a kernel (for live detach tests) instead of no OS
}

const HERE = dirname(fileURLToPath(import.meta.url));
const LIBVIRTD_SH = join(HERE, 'libvirtd.sh');
const GUEST_KERNEL_SH = join(HERE, 'guest-kernel.sh');
/** Where guestKernel() keeps its initramfs between runs. */
const GUEST_KERNEL_DIR = process.env['NOVA_IPMETA_TEST_GUEST_KERNEL_DIR'] || '/var/tmp/nova-ipmeta-guest-kernel';
/** A virsh call that takes longer is killed (and reported as failed), so a hung daemon cannot hang a test run. */
const VIRSH_TIMEOUT_MS = 120_000;
/** deps may install packages (a minute or two on a bare machine). */
const SCRIPT_TIMEOUT_MS = 15 * 60_000;

interface RunOptions {
  input?: string | undefined;
  timeoutMs: number;
}

/** Runs argv, collects its output; resolves (never rejects) with its exit code (128+N for signal N). */
function run(argv: readonly string[], opts: RunOptions): Promise<VirshResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      resolve({ stdout: '', stderr: 'empty command', code: 127 });
      return;
    }
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let note = '';
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + note, code });
    };
    const timer = setTimeout(() => {
      note = `\n${argv.join(' ')}: killed after ${opts.timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      note += `${cmd}: ${e.message}\n`;
      finish(127);
    });
    child.on('close', (code, signal) => {
      finish(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the command does not read its input
      child.stdin.end(opts.input);
    }
  });
}

async function script(path: string, args: readonly string[]): Promise<string> {
  const r = await run(['bash', path, ...args], { timeoutMs: SCRIPT_TIMEOUT_MS });
  if (r.code !== 0) {
    throw new Error(`${path} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** stop ROOT synchronously (for exit and signal handlers), then remove ROOT if that worked. */
function stopSync(root: string): boolean {
  const r = spawnSync('bash', [LIBVIRTD_SH, 'stop', root], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  if (r.status !== 0) return false;
  rmSync(root, { recursive: true, force: true });
  return true;
}

/** Daemons that cleanupOnExit() watches, each with its synchronous stop. */
const running = new Map<PrivateLibvirt, () => void>();
/** The synchronous stop of every daemon startPrivateLibvirt() made and that has not stopped yet. */
const syncStops = new WeakMap<PrivateLibvirt, () => void>();

/** Where the daemon's unix socket path (`<root>/run/libvirt-sock`) stays under the 108-byte limit. */
function tempBase(): string {
  const base = tmpdir();
  return `${base}/nova-ipmeta-libvirt-XXXXXX/run/libvirt-sock`.length < 100 ? base : '/tmp';
}

export async function startPrivateLibvirt(opts?: { prepare?: (root: string) => void | Promise<void> }): Promise<PrivateLibvirt> {
  await script(LIBVIRTD_SH, ['deps']);
  const root = mkdtempSync(join(tempBase(), 'nova-ipmeta-libvirt-'));
  let uri: string;
  try {
    await script(LIBVIRTD_SH, ['init', root]);
    if (opts?.prepare) await opts.prepare(root);
    uri = (await script(LIBVIRTD_SH, ['start', root])).trim();
  } catch (e) {
    stopSync(root);
    throw e;
  }
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const virsh = (...args: string[]): Promise<VirshResult> => run(['virsh', '-c', uri, ...args], { timeoutMs: VIRSH_TIMEOUT_MS });
  const d: PrivateLibvirt = {
    root,
    uri,
    liveXmlDir: join(root, 'run', 'qemu'),
    persistentXmlDir: join(root, 'etc', 'qemu'),
    hooksDir: join(root, 'etc', 'hooks'),
    virsh,
    async virshOk(...args: string[]): Promise<string> {
      const r = await virsh(...args);
      if (r.code !== 0) {
        throw new Error(`virsh ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      }
      return r.stdout;
    },
    nsexec(argv: string[], input?: string): Promise<VirshResult> {
      return run(['bash', LIBVIRTD_SH, 'nsexec', root, ...argv], { input, timeoutMs: VIRSH_TIMEOUT_MS });
    },
    async restart(): Promise<void> {
      if (stopped) throw new Error(`private libvirt ${root} was stopped`);
      await script(LIBVIRTD_SH, ['restart', root]);
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        await script(LIBVIRTD_SH, ['stop', root]);
        stopped = true;
        running.delete(d);
        syncStops.delete(d);
        rmSync(root, { recursive: true, force: true });
      })().finally(() => {
        if (!stopped) stopping = undefined; // a failed stop may be tried again
      });
      return stopping;
    },
  };
  syncStops.set(d, () => {
    if (!stopped && stopSync(root)) stopped = true;
  });
  return d;
}

export function cleanupOnExit(d: PrivateLibvirt): void {
  const stop = syncStops.get(d);
  if (!stop) return; // not ours, or already stopped
  running.set(d, stop);
  installHandlers();
}

let handlersInstalled = false;

function stopAllSync(): void {
  for (const [d, stop] of running) {
    running.delete(d);
    try {
      stop();
    } catch {
      // exiting anyway: stop the others
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' also follows an uncaught exception or unhandled rejection; the monitor runs first, in
  // case something else turns the error into a hard exit.
  process.on('exit', stopAllSync);
  process.on('uncaughtExceptionMonitor', stopAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      stopAllSync();
      process.removeListener(sig, onSignal);
      // Die of the same signal, as if no handler had been there (unless the test has its own).
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** A real guest's interface (see builders.ts). */
export function interfaceXml(i: { mac: string; dev: string }): string {
  return builtInterfaceXml({ ...i, guest: true });
}

export function guestXml(spec: GuestSpec): string {
  const memory = spec.memoryMiB ?? (spec.kernel ? 192 : 48);
  const indent = (xml: string): string => xml.replace(/^/gm, '    ');
  const os = spec.kernel
    ? [
        `    <kernel>${escapeXml(spec.kernel.kernel)}</kernel>`,
        `    <initrd>${escapeXml(spec.kernel.initrd)}</initrd>`,
        `    <cmdline>console=ttyS0</cmdline>`,
      ]
    : [];
  // The console log is named by the UUID (names may hold anything); a UUID libvirt would reject anyway
  // is not used in a path.
  const consoleName = /^[0-9a-fA-F-]+$/.test(spec.uuid) ? spec.uuid : 'guest';
  const serial = spec.kernel
    ? [`    <serial type='file'>`, `      <source path='/var/log/libvirt/qemu/${consoleName}.console.log'/>`, `    </serial>`]
    : [];
  return [
    `<domain type='qemu'>`,
    `  <name>${escapeXml(spec.name)}</name>`,
    `  <uuid>${escapeXml(spec.uuid)}</uuid>`,
    ...(spec.metadata ? [`  <metadata>${spec.metadata}</metadata>`] : []),
    `  <memory unit='MiB'>${memory}</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64'>hvm</type>`,
    ...os,
    `  </os>`,
    `  <features>`,
    `    <acpi/>`,
    `  </features>`,
    `  <devices>`,
    ...spec.interfaces.map((i) => indent(interfaceXml(i))),
    ...serial,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}

export async function guestKernel(): Promise<{ kernel: string; initrd: string }> {
  const lines = (await script(GUEST_KERNEL_SH, [GUEST_KERNEL_DIR])).split('\n').filter((l) => l !== '');
  const [kernel, initrd] = lines;
  if (kernel === undefined || initrd === undefined) {
    throw new Error(`${GUEST_KERNEL_SH} printed no kernel and initrd: ${JSON.stringify(lines)}`);
  }
  return { kernel, initrd };
}
