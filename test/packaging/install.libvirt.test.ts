/**
 * install.sh, the .deb and the demo, for real, without changing this machine: every install runs
 * in a sandbox (test/support/sandbox.sh: a mount namespace where /etc, /usr and /var are
 * copy-on-write overlays whose writes land in DIR/upper, and where systemd seems not to run), so
 * install.sh and dpkg run with their default paths, and what they changed can be listed exactly.
 * A private libvirt daemon started from inside a sandbox shares its view (the hook, the command).
 *
 * Root only, like the rest of the libvirt group.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { guestXml } from '../support/libvirt';
import { makeVif, networkInfo, novaInstance, NS_1_1 } from '../support/nova-guest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_SH = join(REPO, 'install.sh');
const SANDBOX_SH = join(REPO, 'test/support/sandbox.sh');
const LIBVIRTD_SH = join(REPO, 'test/support/libvirtd.sh');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-install-'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Run {
  const [cmd = 'false', ...args] = argv;
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: REPO,
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
}

function ok(argv: readonly string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): string {
  const r = run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Sandboxes and daemons this file started, ended whatever happens. */
const sandboxes = new Set<string>();
const daemons = new Set<string>();
function cleanup(): void {
  for (const root of daemons) spawnSync('bash', [LIBVIRTD_SH, 'stop', root], { stdio: 'ignore', timeout: 60_000 });
  daemons.clear();
  for (const dir of sandboxes) spawnSync('bash', [SANDBOX_SH, 'down', dir], { stdio: 'ignore', timeout: 60_000 });
  sandboxes.clear();
}
process.on('exit', () => {
  cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

class Sandbox {
  readonly dir: string;
  constructor(name: string) {
    this.dir = join(tmp, name);
    ok(['bash', SANDBOX_SH, 'up', this.dir]);
    sandboxes.add(this.dir);
  }
  exec(argv: readonly string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Run {
    return run(['bash', SANDBOX_SH, 'exec', this.dir, ...argv], opts);
  }
  install(...args: string[]): Run {
    return this.exec(['bash', INSTALL_SH, ...args]);
  }
  /**
   * What /etc, /usr and /var hold, as the sandbox sees them: type, mode, owner, path, size (about
   * 4 s for 150,000 entries). /var/tmp is the host's own, shared with whatever else runs.
   */
  tree(): string[] {
    const out = ok(['bash', SANDBOX_SH, 'exec', this.dir, 'find', '/etc', '/usr', '/var', '-xdev', '-path', '/var/tmp', '-prune', '-o', '-printf', '%y %m %u %p %s\\n']);
    // A directory's size changes with its entries, not with what it holds.
    return out
      .split('\n')
      .filter((l) => l !== '' && !l.includes(' /var/log/') && !l.includes(' /var/cache/man/'))
      .map((l) => (l.startsWith('d ') ? l.replace(/ \d+$/, '') : l))
      .sort();
  }
  /** Every file or link the sandbox's writes left (directories copied up on the way are not listed). */
  written(): string[] {
    return readdirSync(join(this.dir, 'upper'), { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name).slice(join(this.dir, 'upper').length))
      .sort();
  }
  /**
   * Every change made in the sandbox, cheaply: each write to /etc, /usr or /var lands in the
   * upper layer, a removal as a whiteout (a character device), a chmod or chown as a copy: so the
   * tree is as before exactly when the upper layer holds directories only, each with the mode and
   * owner of the host's own.
   */
  changes(): string[] {
    const upper = join(this.dir, 'upper');
    const changed = this.written();
    for (const e of readdirSync(upper, { recursive: true, withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const path = join(e.parentPath, e.name);
      const host = path.slice(upper.length);
      const a = statSync(path);
      let b;
      try {
        b = statSync(host);
      } catch {
        changed.push(`${host}/ (new)`);
        continue;
      }
      if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) changed.push(`${host}/ (mode or owner)`);
    }
    return changed.sort();
  }
  down(): void {
    ok(['bash', SANDBOX_SH, 'down', this.dir]);
    sandboxes.delete(this.dir);
  }
}

const t = suite('install.sh, the .deb and the demo');

t.before(() => {
  ok(['bash', LIBVIRTD_SH, 'deps'], { timeoutMs: 15 * 60_000 });
  assert.ok(existsSync(join(REPO, 'dist/nova-ipmeta.cjs')), 'dist/nova-ipmeta.cjs is missing: npm run build');
});

t.after(() => {
  cleanup();
});

t('install.sh installs, is idempotent, and --uninstall --purge restores the tree exactly', () => {
  const s = new Sandbox('plain');
  const before = s.tree();
  const r = s.install();
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)');
  assert.equal(s.written(), [
    '/etc/cron.d/nova-ipmeta',
    '/etc/libvirt/hooks/qemu.d/nova-ipmeta',
    '/etc/nova-ipmeta/nova-ipmeta.conf',
    '/usr/lib/nova-ipmeta/hooks/qemu',
    '/usr/lib/nova-ipmeta/nova-ipmeta.cjs',
    '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache',
    '/usr/lib/nova-ipmeta/nova-ipmeta.programs',
    '/usr/lib/nova-ipmeta/periodic-reconcile',
    '/usr/sbin/nova-ipmeta',
    '/usr/share/bash-completion/completions/nova-ipmeta',
    '/usr/share/man/man8/nova-ipmeta.8.gz',
    '/var/lib/nova-ipmeta/install-manifest',
  ]);
  const modes = s.exec(['stat', '-c', '%a %U %n', '/var/lib/nova-ipmeta', '/var/lib/nova-ipmeta/network_info', '/etc/libvirt/hooks/qemu.d/nova-ipmeta']);
  assert.is(modes.stdout, '700 root /var/lib/nova-ipmeta\n700 root /var/lib/nova-ipmeta/network_info\n755 root /etc/libvirt/hooks/qemu.d/nova-ipmeta\n');
  assert.is(s.exec(['nova-ipmeta', '--version']).stdout.trim(), VERSION);

  const installed = s.exec(['find', '/etc/libvirt/hooks', '/etc/nova-ipmeta', '/usr/lib/nova-ipmeta', '/var/lib/nova-ipmeta', '-printf', '%m %p %s %T@\\n']).stdout;
  const again = s.install();
  assert.is(again.code, 0, again.stderr);
  assert.not.match(again.stdout, 'installed /');
  assert.match(again.stdout, '(unchanged)');
  assert.is(s.exec(['find', '/etc/libvirt/hooks', '/etc/nova-ipmeta', '/usr/lib/nova-ipmeta', '/var/lib/nova-ipmeta', '-printf', '%m %p %s %T@\\n']).stdout, installed);

  // Without --purge, the state directory (the cache) stays, and only it.
  const kept = s.install('--uninstall');
  assert.is(kept.code, 0, kept.stderr);
  const had = new Set(before);
  const left = s.tree().filter((l) => !had.has(l));
  assert.equal(
    left.map((l) => l.split(' ').slice(0, 4).join(' ')),
    ['d 700 root /var/lib/nova-ipmeta', 'd 700 root /var/lib/nova-ipmeta/network_info'],
  );
  const purged = s.install('--uninstall', '--purge');
  assert.is(purged.code, 0, purged.stderr);
  assert.equal(s.tree(), before);
  assert.equal(s.changes(), []);
  s.down();
});

t('the systemd units pass systemd-analyze verify against the installed command', () => {
  if (run(['systemd-analyze', '--version']).code !== 0) {
    console.log('  (skipped: no systemd-analyze)');
    return;
  }
  const s = new Sandbox('units');
  assert.is(s.install().code, 0);
  // No systemd runs in the sandbox, so install.sh took the cron path: the units come from a
  // packager's install (DESTDIR), checked offline against the files the sandbox now has.
  const dest = join(tmp, 'units-destdir');
  ok(['bash', INSTALL_SH], { env: { DESTDIR: dest } });
  const units = ['nova-ipmeta-reconcile.service', 'nova-ipmeta-reconcile.timer', 'nova-ipmeta-watch.service'];
  for (const u of units) ok(['bash', SANDBOX_SH, 'exec', s.dir, 'cp', join(dest, 'usr/lib/systemd/system', u), '/usr/lib/systemd/system/']);
  const verify = s.exec(['systemd-analyze', 'verify', '--man=no', ...units.map((u) => `/usr/lib/systemd/system/${u}`)]);
  assert.is(verify.code, 0, verify.stderr);
  assert.is(verify.stderr, '');
  s.down();
});

t('a foreign hook is never overwritten: exit 4, what was found, how to chain; qemu.d leaves it be', () => {
  const s = new Sandbox('foreign');
  const foreign = '#!/bin/sh\n# the site hook\nexit 0\n';
  writeFileSync(join(tmp, 'foreign-hook'), foreign);
  ok(['bash', SANDBOX_SH, 'exec', s.dir, 'install', '-D', '-m', '0755', join(tmp, 'foreign-hook'), '/etc/libvirt/hooks/qemu']);
  const before = s.changes();
  assert.equal(before.filter((p) => p.startsWith('/etc/libvirt/hooks/')), ['/etc/libvirt/hooks/ (new)', '/etc/libvirt/hooks/qemu']);

  const old = s.install('--libvirt-version', '6.0.0');
  assert.is(old.code, 4, old.stderr);
  assert.match(old.stderr, `/etc/libvirt/hooks/qemu is not nova-ipmeta's hook (no "# managed-by: nova-ipmeta" line; it starts "#!/bin/sh"): left as it is, nothing installed`);
  assert.match(old.stderr, 'make that hook run /usr/lib/nova-ipmeta/hooks/qemu with the same arguments and stdin, then install with --no-hook');
  assert.equal(s.changes(), before, 'nothing may change when install.sh refuses');

  const modern = s.install();
  assert.is(modern.code, 0, modern.stderr);
  assert.match(modern.stdout, 'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)');
  assert.is(s.exec(['cat', '/etc/libvirt/hooks/qemu']).stdout, foreign);

  const removed = s.install('--uninstall', '--purge');
  assert.is(removed.code, 0, removed.stderr);
  assert.equal(s.changes(), before);
  assert.is(s.exec(['cat', '/etc/libvirt/hooks/qemu']).stdout, foreign);

  // A file of someone else's at our own name in qemu.d: refused too.
  ok(['bash', SANDBOX_SH, 'exec', s.dir, 'install', '-D', '-m', '0755', join(tmp, 'foreign-hook'), '/etc/libvirt/hooks/qemu.d/nova-ipmeta']);
  const clash = s.install();
  assert.is(clash.code, 4, clash.stderr);
  assert.match(clash.stderr, 'rename or remove /etc/libvirt/hooks/qemu.d/nova-ipmeta, then install again');
  s.down();
});

t('prerequisites: not root, or no good Node: exit 3 and nothing changed', () => {
  const s = new Sandbox('prereq');
  const node = s.exec(['env', 'NODE=/bin/false', 'bash', INSTALL_SH]);
  assert.is(node.code, 3, node.stderr);
  assert.match(node.stderr, 'install.sh: NODE=/bin/false is not a Node >= 18.19');
  // A copy nobody can read, wherever the checkout is (/root is not readable by others).
  const copy = mkdtempSync(join(tmpdir(), 'nova-ipmeta-install-copy-'));
  chmodSync(copy, 0o755);
  cpSync(INSTALL_SH, join(copy, 'install.sh'));
  const user = s.exec(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'bash', join(copy, 'install.sh')]);
  rmSync(copy, { recursive: true, force: true });
  assert.is(user.code, 3, user.stderr);
  assert.match(user.stderr, 'install.sh: run as root');
  assert.equal(s.changes(), []);
  s.down();
});

t('with the daemon: the hook is seen after a restart, and a guest start fills its ports', async () => {
  const s = new Sandbox('daemon');
  const root = join(tmp, 'libvirt');
  ok(['bash', LIBVIRTD_SH, 'init', root]);
  ok(['bash', SANDBOX_SH, 'exec', s.dir, 'sh', '-c', 'mkdir -p /etc/libvirt && mount --bind "$1/etc" /etc/libvirt', 'sh', root]);
  daemons.add(root);
  const uri = ok(['bash', SANDBOX_SH, 'exec', s.dir, 'bash', LIBVIRTD_SH, 'start', root]).trim();
  const virsh = (...args: string[]) => ok(['virsh', '-c', uri, ...args]);
  const inDaemon = (...argv: string[]) => run(['bash', LIBVIRTD_SH, 'nsexec', root, ...argv]);
  const doctor = () => {
    const r = inDaemon('nova-ipmeta', 'doctor', '--json');
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { check: string; status: string; detail: string }[] };
    return { code: r.code, report, status: (check: string) => report.checks.find((c) => c.check === check)?.status };
  };

  // Installed while the daemon runs: libvirt does not look for it again.
  const r = s.install();
  assert.is(r.code, 0, r.stderr);
  const blind = doctor();
  assert.is(blind.code, 1);
  assert.is(blind.status('hook'), 'ok');
  assert.is(blind.status('hook seen'), 'fail', JSON.stringify(blind.report));

  const vifs = [makeVif({ floating: ['203.0.113.77'] }), makeVif()];
  const uuid = randomUUID();
  const name = `instance-install-${uuid.slice(0, 8)}`;
  const xmlFile = join(tmp, 'guest.xml');
  writeFileSync(
    xmlFile,
    guestXml({ name, uuid, interfaces: vifs.map((v) => ({ mac: v.mac, dev: v.dev })), metadata: novaInstance({ ns: NS_1_1, name: 'db-9', novaPorts: vifs.slice(0, 1) }) }),
  );
  virsh('define', xmlFile);
  writeFileSync(join(tmp, 'network_info.json'), networkInfo(vifs));
  const put = inDaemon('nova-ipmeta', 'cache', 'put', uuid, join(tmp, 'network_info.json'));
  assert.is(put.code, 0, put.stderr);

  // The restart starts the new daemon from inside the sandbox, so it shares its view.
  ok(['bash', SANDBOX_SH, 'exec', s.dir, 'bash', LIBVIRTD_SH, 'restart', root]);
  const seen = doctor();
  assert.is(seen.status('hook seen'), 'ok', JSON.stringify(seen.report));
  assert.is(seen.status('cache'), 'ok', JSON.stringify(seen.report));
  assert.ok(
    // No cron daemon or watcher runs in the sandbox, and no nova-compute whose credentials cache sync could use.
    seen.report.checks.every((c) => c.status === 'ok' || c.check === 'cron daemon' || c.check === 'watcher' || c.check === 'credentials'),
    JSON.stringify(seen.report),
  );
  assert.is(seen.code, 0);

  virsh('start', uuid);
  let ports = '';
  for (let i = 0; i < 150 && !ports.includes('203.0.113.77'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    ports = virsh('metadata', uuid, NS_1_1);
  }
  assert.match(ports, '<ip type="floating" address="203.0.113.77" ipVersion="4"/>', ports);
  for (const v of vifs) {
    assert.match(ports, `<port uuid="${v.id}">`);
    for (const a of v.fixed) assert.match(ports, `address="${a}"`);
  }
  assert.match(inDaemon('cat', '/var/lib/nova-ipmeta/hook.log').stdout, `repaired      ${name}`);

  const gone = s.install('--uninstall', '--purge');
  assert.is(gone.code, 0, gone.stderr);
  assert.not.ok(existsSync(join(root, 'etc/hooks/qemu.d/nova-ipmeta')));
  ok(['bash', LIBVIRTD_SH, 'stop', root]);
  daemons.delete(root);
  s.down();
});

t('the containerized mode: a daemon in another mount namespace; install.sh suggests --no-hook, which places no hook, and doctor agrees', () => {
  const s = new Sandbox('no-hook');
  const before = s.tree();
  // A daemon the sandbox cannot see the files of, as kolla-ansible's nova_libvirt container is to the host.
  const root = join(tmp, 'libvirt-elsewhere');
  ok(['bash', LIBVIRTD_SH, 'init', root]);
  daemons.add(root);
  const uri = ok(['bash', LIBVIRTD_SH, 'start', root]).trim();

  const hooked = s.install('--restart-libvirtd');
  assert.is(hooked.code, 0, hooked.stderr);
  assert.match(hooked.stdout, /hook: libvirtd \(pid \d+\) in another mount namespace never runs this host's hook: install without it \(install\.sh --no-hook/);
  assert.match(hooked.stdout, /libvirt: not restarted: libvirtd \(pid \d+\) in another mount namespace, not on this system/);

  const r = s.install('--no-hook');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'hook: removed /etc/libvirt/hooks/qemu.d/nova-ipmeta');
  assert.match(r.stdout, 'hook: not installed (--no-hook, the containerized mode)');
  assert.is(s.exec(['test', '-e', '/etc/libvirt/hooks/qemu.d/nova-ipmeta']).code, 1, 'no hook');
  assert.match(s.exec(['cat', '/etc/nova-ipmeta/no-hook']).stdout, 'install.sh --no-hook');

  const doctor = s.exec(['nova-ipmeta', 'doctor', '--json', '--connect', uri]);
  const report = JSON.parse(doctor.stdout) as { checks: { check: string; status: string; detail: string }[] };
  const check = (name: string) => report.checks.find((c) => c.check === name);
  assert.equal([check('hook')?.status, check('hook')?.detail], ['ok', 'not used in this mode: installed without a hook (/etc/nova-ipmeta/no-hook); the watcher reconciles every guest start']);
  assert.is(check('hook seen')?.status, 'ok');
  assert.match(check('daemon')?.detail ?? '', /libvirtd \(pid \d+\) in another mount namespace: containerized libvirt/);
  assert.is(check('libvirt')?.status, 'ok', doctor.stdout);

  // Back to a hooked install: the file goes; --uninstall --purge leaves the tree as it was.
  const again = s.install();
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, 'removed /etc/nova-ipmeta/no-hook');
  assert.is(s.exec(['test', '-e', '/etc/nova-ipmeta/no-hook']).code, 1);
  assert.is(s.install('--no-hook').code, 0);
  const purged = s.install('--uninstall', '--purge');
  assert.is(purged.code, 0, purged.stderr);
  assert.equal(s.tree(), before);
  ok(['bash', LIBVIRTD_SH, 'stop', root]);
  daemons.delete(root);
  s.down();
});

t('the .deb: builds, installs with dpkg -i, works, and dpkg --purge leaves nothing behind', () => {
  const built = ok(['node', join(REPO, 'scripts/package.mjs')]).trim();
  const deb = join(REPO, built);
  assert.is(built, `build/nova-ipmeta_${VERSION}_all.deb`);
  const fields = ok(['dpkg-deb', '-f', deb, 'Package', 'Version', 'Architecture', 'Depends']);
  assert.is(fields, `Package: nova-ipmeta\nVersion: ${VERSION}\nArchitecture: all\nDepends: nodejs (>= 18.19), libvirt-clients\n`);
  assert.is(ok(['dpkg-deb', '--ctrl-tarfile', deb]).length > 0, true);

  const s = new Sandbox('deb');
  // Its Depends, inside the sandbox only (where nodejs is a package of another origin, as
  // nodesource's, it satisfies the dependency as it is).
  const depends = s.exec([
    'sh',
    '-c',
    'v=$(dpkg-query -W -f "\\${Version}" nodejs 2>/dev/null) && dpkg --compare-versions "$v" ge 18.19 && dpkg-query -W libvirt-clients >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs libvirt-clients',
  ], { timeoutMs: 15 * 60_000 });
  assert.is(depends.code, 0, depends.stderr);

  const installed = s.exec(['dpkg', '-i', deb]);
  assert.is(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, 'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)');
  // V8's code cache, made by postinst for the Node the package runs on.
  const node = s.exec(['/usr/bin/node', '--version']).stdout.trim();
  assert.match(installed.stdout, `code cache: /usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache (for ${node})`);
  assert.match(s.exec(['head', '-c', '200', '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache']).stdout, ` ${node} `);
  assert.is(s.exec(['nova-ipmeta', '--version']).stdout.trim(), VERSION);
  // nodejs upgraded: dpkg's trigger on /usr/bin/node has postinst make it again (here: run as dpkg would).
  s.exec(['rm', '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache']);
  assert.is(s.exec(['sh', '/var/lib/dpkg/info/nova-ipmeta.postinst', 'triggered', '/usr/bin/node']).code, 0);
  assert.is(s.exec(['test', '-s', '/usr/lib/nova-ipmeta/nova-ipmeta.cjs.cache']).code, 0);
  assert.match(s.exec(['cat', '/var/lib/dpkg/info/nova-ipmeta.triggers']).stdout, /^interest-noawait \/usr\/bin\/node$/m);
  const rendered = s.exec(['nova-ipmeta', 'render', join(REPO, 'test/fixtures/network_info/two-ports.json')]);
  assert.is(rendered.code, 0, rendered.stderr);
  assert.is(rendered.stdout, readFileSync(join(REPO, 'test/fixtures/expected-two-ports.xml'), 'utf8'));
  assert.is(s.exec(['stat', '-c', '%a', '/var/lib/nova-ipmeta/network_info']).stdout, '700\n');
  assert.match(s.exec(['dpkg-query', '-W', '-f', '${Conffiles}', 'nova-ipmeta']).stdout, '/etc/cron.d/nova-ipmeta');
  // The units are enabled the Debian way (no systemd runs in the sandbox, so none is started).
  assert.ok(s.exec(['test', '-L', '/etc/systemd/system/timers.target.wants/nova-ipmeta-reconcile.timer']).code === 0);

  const purged = s.exec(['dpkg', '--purge', 'nova-ipmeta']);
  assert.is(purged.code, 0, purged.stderr);
  assert.match(purged.stdout, 'hook: removed /etc/libvirt/hooks/qemu.d/nova-ipmeta');
  // What the sandbox still holds: dpkg's own bookkeeping and man-db's cache, nothing of ours.
  const changes = s.changes();
  assert.equal(
    changes.filter((p) => !/^\/var\/(lib\/dpkg|cache\/man|log)\//.test(p)),
    [],
    'dpkg --purge left something behind',
  );
  assert.equal(
    changes.filter((p) => p.includes('nova-ipmeta')),
    [],
  );

  // The containerized mode for the package, without debconf: /etc/nova-ipmeta/no-hook before installing.
  ok(['bash', SANDBOX_SH, 'exec', s.dir, 'sh', '-c', 'mkdir -p /etc/nova-ipmeta && touch /etc/nova-ipmeta/no-hook']);
  const bare = s.exec(['dpkg', '-i', deb]);
  assert.is(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, 'nova-ipmeta: no libvirt hook installed (/etc/nova-ipmeta/no-hook)');
  assert.is(s.exec(['test', '-e', '/etc/libvirt/hooks/qemu.d/nova-ipmeta']).code, 1, 'no hook');
  assert.is(s.exec(['dpkg', '--purge', 'nova-ipmeta']).code, 0);
  assert.equal(
    s.changes().filter((p) => p.includes('nova-ipmeta')),
    [],
  );
  s.down();
});

t('the demo runs to the end and takes itself down', () => {
  const root = join(tmp, 'demo');
  const r = run(['bash', join(REPO, 'demo.sh'), '--once'], { env: { NOVA_IPMETA_DEMO_ROOT: root }, timeoutMs: 20 * 60_000 });
  assert.is(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  for (const s of [
    'hook: /etc/libvirt/hooks/qemu.d/nova-ipmeta (installed)',
    '<nova:ip type="floating" address="203.0.113.10" ipVersion="4"/>',
    '<nova:ip type="floating" address="11.22.33.44" ipVersion="4"/>',
    '<nova:port uuid="a3ca97e2-0cf9-4159-9bfc-afd55bc13ead">',
    '<nova:port uuid="3f1c9a52-1111-4a6e-9d0b-0c0ffee00001"/>',
    'instance-0000002a  9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a  web-1',
    '+floating 203.0.113.25 v4, -floating 203.0.113.10 v4',
    'ok    hook seen: libvirtd',
    'demo.sh: down',
  ]) {
    assert.match(r.stdout, s);
  }
  assert.not.ok(existsSync(root), `${root} is still there`);
});

t.run();
