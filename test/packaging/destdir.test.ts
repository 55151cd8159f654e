/**
 * install.sh into a DESTDIR, as a packager runs it: the exact files and modes, the paths written
 * into the hook, the command, the units and the cron file (for /usr and for another PREFIX),
 * idempotence, and the one-line usage errors. Nothing here touches the machine outside temporary
 * directories (the real installs are in test/packaging/install.libvirt.test.ts, in a sandbox).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_SH = join(REPO, 'install.sh');
const tmp = mkdtempSync(join(tmpdir(), 'nova-ipmeta-destdir-'));
let n = 0;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function install(env: Record<string, string>, args: string[] = [], script = INSTALL_SH): Run {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `MODE PATH` for every file and directory under root, sorted. */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true })
    .map(String)
    .sort()
    .map((p) => {
      const s = lstatSync(join(root, p));
      if (s.isSymbolicLink()) return `link ${p} -> ${readlinkSync(join(root, p))}`;
      return `${(s.mode & 0o7777).toString(8)} ${p}${s.isDirectory() ? '/' : ''}`;
    });
}

const read = (root: string, p: string) => readFileSync(join(root, p), 'utf8');

const t = suite('install.sh DESTDIR');

t.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

t('installs exactly the package files, with their modes, and nothing else', () => {
  const dest = join(tmp, `d${n++}`);
  const r = install({ DESTDIR: dest, PREFIX: '/usr', NODE: '/usr/bin/node' });
  assert.is(r.code, 0, r.stderr);
  assert.equal(listing(dest), [
    '755 etc/',
    '755 etc/cron.d/',
    '644 etc/cron.d/nova-ipmeta',
    '755 etc/nova-ipmeta/',
    '640 etc/nova-ipmeta/nova-ipmeta.conf',
    '755 usr/',
    '755 usr/lib/',
    '755 usr/lib/nova-ipmeta/',
    '755 usr/lib/nova-ipmeta/hooks/',
    '755 usr/lib/nova-ipmeta/hooks/qemu',
    '755 usr/lib/nova-ipmeta/nova-ipmeta.cjs',
    '644 usr/lib/nova-ipmeta/nova-ipmeta.programs',
    '755 usr/lib/nova-ipmeta/periodic-reconcile',
    '755 usr/lib/systemd/',
    '755 usr/lib/systemd/system/',
    '644 usr/lib/systemd/system/nova-ipmeta-reconcile.service',
    '644 usr/lib/systemd/system/nova-ipmeta-reconcile.timer',
    '644 usr/lib/systemd/system/nova-ipmeta-watch.service',
    '755 usr/sbin/',
    'link usr/sbin/nova-ipmeta -> ../lib/nova-ipmeta/nova-ipmeta.cjs',
    '755 usr/share/',
    '755 usr/share/bash-completion/',
    '755 usr/share/bash-completion/completions/',
    '644 usr/share/bash-completion/completions/nova-ipmeta',
    '755 usr/share/man/',
    '755 usr/share/man/man8/',
    '644 usr/share/man/man8/nova-ipmeta.8.gz',
  ]);
  // Files only: no hook placed, no state directory, no manifest.
  assert.not.ok(r.stdout.includes('hook:'), r.stdout);
  // The head, its first line naming the Node given: the kernel starts it through the link.
  const head = read(REPO, 'dist/nova-ipmeta.cjs');
  assert.is(read(dest, 'usr/lib/nova-ipmeta/nova-ipmeta.cjs'), `#!/usr/bin/node\n${head.slice(head.indexOf('\n') + 1)}`);
  assert.equal(readFileSync(join(dest, 'usr/lib/nova-ipmeta/nova-ipmeta.programs')), readFileSync(join(REPO, 'dist/nova-ipmeta.programs')));
  assert.is(read(dest, 'etc/nova-ipmeta/nova-ipmeta.conf'), read(REPO, 'packaging/etc/nova-ipmeta.conf'));
  assert.ok(gunzipSync(readFileSync(join(dest, 'usr/share/man/man8/nova-ipmeta.8.gz'))).toString().startsWith('.TH NOVA-IPMETA 8'));
});

t('the installed hook: marker after the shebang, the two assignment lines rewritten, the rest as in hooks/qemu', () => {
  const dest = join(tmp, `d${n++}`);
  assert.is(install({ DESTDIR: dest, PREFIX: '/usr/local' }).code, 0);
  const hook = read(dest, 'usr/local/lib/nova-ipmeta/hooks/qemu').split('\n');
  const source = read(REPO, 'hooks/qemu').split('\n');
  assert.is(hook[0], '#!/bin/sh');
  assert.is(hook[1], '# managed-by: nova-ipmeta');
  assert.ok(hook.includes('NOVA_IPMETA=/usr/local/sbin/nova-ipmeta'));
  assert.ok(hook.includes('NOVA_IPMETA_CONFIG=/etc/nova-ipmeta/nova-ipmeta.conf'));
  const rest = (lines: string[]) => lines.filter((l) => !/^NOVA_IPMETA(_CONFIG)?=/.test(l) && l !== '# managed-by: nova-ipmeta');
  assert.equal(rest(hook), rest(source));
});

t('another PREFIX reaches the command, the units, the cron lines and the periodic script', () => {
  const dest = join(tmp, `d${n++}`);
  assert.is(install({ DESTDIR: dest, PREFIX: '/opt/nova', NODE: '/opt/node/bin/node' }).code, 0);
  assert.is(readlinkSync(join(dest, 'opt/nova/sbin/nova-ipmeta')), '../lib/nova-ipmeta/nova-ipmeta.cjs');
  assert.ok(read(dest, 'opt/nova/lib/nova-ipmeta/nova-ipmeta.cjs').startsWith('#!/opt/node/bin/node\n'));
  assert.match(read(dest, 'opt/nova/lib/systemd/system/nova-ipmeta-watch.service'), 'ExecStart=/opt/nova/sbin/nova-ipmeta watch');
  assert.match(read(dest, 'opt/nova/lib/systemd/system/nova-ipmeta-reconcile.service'), 'ExecStart=/opt/nova/lib/nova-ipmeta/periodic-reconcile');
  const cron = read(dest, 'etc/cron.d/nova-ipmeta');
  assert.match(cron, '[ -x /opt/nova/lib/nova-ipmeta/periodic-reconcile ] && /opt/nova/lib/nova-ipmeta/periodic-reconcile');
  assert.match(cron, '/opt/nova/sbin/nova-ipmeta watch');
  assert.not.match(cron, '/usr/sbin/nova-ipmeta');
  assert.match(read(dest, 'opt/nova/lib/nova-ipmeta/periodic-reconcile'), 'exec /opt/nova/sbin/nova-ipmeta reconcile');
});

t("a NODE path with a ';' and a quote is the head's first line, and the command, a link to the head, runs it", () => {
  const dest = join(tmp, `d${n++}`);
  const odd = join(tmp, `odd;node'x`);
  mkdirSync(odd);
  symlinkSync(process.execPath, join(odd, 'node'));
  assert.is(install({ DESTDIR: dest, PREFIX: '/usr', NODE: join(odd, 'node') }).code, 0);
  assert.ok(read(dest, 'usr/lib/nova-ipmeta/nova-ipmeta.cjs').startsWith(`#!${odd}/node\n`));
  // The link is relative: in the DESTDIR it reaches the DESTDIR's head, and the kernel starts the Node its first line names.
  const r = spawnSync(join(dest, 'usr/sbin/nova-ipmeta'), ['--version'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

t("a NODE path with a blank, or too long for a first line, gets a sh wrapper instead, in which it is one word", () => {
  const long = join(tmp, 'l'.repeat(130), 'node');
  mkdirSync(join(long, '..'));
  symlinkSync(process.execPath, long);
  const dest = join(tmp, `d${n++}`);
  assert.is(install({ DESTDIR: dest, PREFIX: '/usr', NODE: long }).code, 0);
  assert.is(read(dest, 'usr/sbin/nova-ipmeta'), `#!/bin/sh\n# nova-ipmeta: the bundled program, run by the Node that install.sh chose.\nexec '${long}' '/usr/lib/nova-ipmeta/nova-ipmeta.cjs' "$@"\n`);
  assert.equal(readFileSync(join(dest, 'usr/lib/nova-ipmeta/nova-ipmeta.cjs')), readFileSync(join(REPO, 'dist/nova-ipmeta.cjs')));
});

t("a NODE path with a blank, a ';' or a quote is one word in the command's wrapper, which runs it", () => {
  const dest = join(tmp, `d${n++}`);
  const odd = join(tmp, `odd node; x'y`);
  mkdirSync(odd);
  symlinkSync(process.execPath, join(odd, 'node'));
  assert.is(install({ DESTDIR: dest, PREFIX: '/usr', NODE: join(odd, 'node') }).code, 0);
  const wrapper = join(dest, 'usr/sbin/nova-ipmeta');
  // Point the wrapper at this DESTDIR's bundle, and run it.
  writeFileSync(wrapper, read(dest, 'usr/sbin/nova-ipmeta').replace('/usr/lib/nova-ipmeta/', `${dest}/usr/lib/nova-ipmeta/`));
  const r = spawnSync('sh', [wrapper, '--version'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

t('every cron line stands down where systemd runs, and when the package is removed', () => {
  const lines = read(REPO, 'packaging/cron/nova-ipmeta')
    .split('\n')
    .filter((l) => /^[*0-9@]/.test(l));
  assert.is(lines.length, 2);
  for (const l of lines) {
    assert.match(l, '[ ! -d /run/systemd/system ] && [ -x ');
  }
});

t('a second run changes nothing and says so', () => {
  const dest = join(tmp, `d${n++}`);
  assert.is(install({ DESTDIR: dest }).code, 0);
  const before = listing(dest);
  const mtimes = before.map((l) => statSync(join(dest, l.split(' ')[1] ?? '')).mtimeMs);
  const r = install({ DESTDIR: dest });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stdout, 'installed /');
  assert.match(r.stdout, 'kept ');
  assert.equal(listing(dest), before);
  assert.equal(
    before.map((l) => statSync(join(dest, l.split(' ')[1] ?? '')).mtimeMs),
    mtimes,
  );
});

t('an edited config file is kept', () => {
  const dest = join(tmp, `d${n++}`);
  assert.is(install({ DESTDIR: dest }).code, 0);
  const conf = join(dest, 'etc/nova-ipmeta/nova-ipmeta.conf');
  spawnSync('sh', ['-c', 'echo "[libvirt]\nconnection_uri = qemu:///system" >"$1"', 'sh', conf]);
  assert.is(install({ DESTDIR: dest }).code, 0);
  assert.is(readFileSync(conf, 'utf8'), '[libvirt]\nconnection_uri = qemu:///system\n');
});

t("a temp directory whose name holds a quote and a semicolon: removed when a step fails, nothing else run", () => {
  const dest = join(tmp, `d${n++}`);
  const marker = join(tmp, `ran${n}`);
  const odd = join(tmp, `tmp'; touch "$MARKER"; '`);
  mkdirSync(odd);
  // A file where a directory must go: the install fails half way, and its exit trap cleans up.
  mkdirSync(dest);
  writeFileSync(join(dest, 'usr'), '');
  const r = install({ DESTDIR: dest, TMPDIR: odd, MARKER: marker });
  assert.is(r.code, 1, r.stderr);
  assert.not.ok(existsSync(marker), 'the trap ran what the name held');
  assert.equal(readdirSync(odd), [], 'the temp directory is gone');
});

t('usage errors: one line, exit 2, nothing written', () => {
  const dest = join(tmp, `d${n++}`);
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ DESTDIR: dest }, ['--bogus'], /^install\.sh: unknown option --bogus/],
    [{ DESTDIR: dest }, ['--purge'], /^install\.sh: --purge goes with --uninstall/],
    [{ DESTDIR: 'relative/dir' }, [], /^install\.sh: DESTDIR must be an absolute path/],
    [{ DESTDIR: dest, PREFIX: '/usr/my prefix' }, [], /^install\.sh: PREFIX must be an absolute path/],
    [{ DESTDIR: dest }, ['--uninstall'], /^install\.sh: --uninstall works on this host, not in DESTDIR/],
    [{ DESTDIR: dest }, ['--hooks-dir'], /^install\.sh: --hooks-dir needs a value/],
  ];
  for (const [env, args, message] of cases) {
    const r = install(env, args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.throws(() => statSync(dest));
});

t('without the built bundle: exit 3, and how to build it', () => {
  const checkout = join(tmp, `checkout${n++}`);
  for (const p of ['install.sh', 'hooks', 'packaging']) cpSync(join(REPO, p), join(checkout, p), { recursive: true });
  const r = install({ DESTDIR: join(checkout, 'dest') }, [], join(checkout, 'install.sh'));
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, "dist/nova-ipmeta.cjs is missing: run 'npm ci && npm run build'");
});

t('--help: usage, the layout, the exit statuses', () => {
  const r = install({}, ['--help']);
  assert.is(r.code, 0);
  for (const s of ['--uninstall', '--restart-libvirtd', 'DESTDIR', 'FOREIGN HOOK', 'Exit status: 0 done; 1 a step failed; 2 usage; 3']) assert.match(r.stdout, s);
});

t.run();
