// Builds the Debian package build/nova-ipmeta_VERSION_all.deb with dpkg-deb, from the files
// install.sh puts in place (DESTDIR=build/deb/root: the very same layout as `sudo ./install.sh`),
// packaging/deb's control files and maintainer scripts, a copyright file that names every package
// bundled into nova-ipmeta.programs, and md5sums. Needs the bundle (`npm run build`; `npm run package`
// runs it first), dpkg-deb and gzip. Runs as any user: dpkg-deb --root-owner-group makes every
// file root's.
//
// Environment: DEB_MAINTAINER (default "nova-ipmeta maintainers <nova-ipmeta@localhost>", a
// placeholder lintian rightly flags: set it for a release), DEB_HOMEPAGE (the Homepage field and
// the copyright's Source; none by default), SOURCE_DATE_EPOCH
// (reproducible timestamps; default: the last commit's time).
import { build } from 'esbuild';
import { common, define, nodeMinimum, plugins } from './build.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const repo = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { version, name } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const maintainer = process.env.DEB_MAINTAINER || 'nova-ipmeta maintainers <nova-ipmeta@localhost>';
const homepage = process.env.DEB_HOMEPAGE || '';
const epoch = Number(process.env.SOURCE_DATE_EPOCH || lastCommitTime());
const out = join(repo, 'build');
const stage = join(out, 'deb', 'root');
const deb = join(out, `${name}_${version}_all.deb`);

function lastCommitTime() {
  const r = spawnSync('git', ['-C', repo, 'log', '-1', '--format=%ct'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : String(Math.floor(Date.now() / 1000));
}

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}

if (!existsSync(join(repo, 'dist', 'nova-ipmeta.cjs'))) fail('dist/nova-ipmeta.cjs is missing: npm run build');
for (const tool of ['dpkg-deb', 'gzip']) {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) fail(`${tool} is missing (apt-get install dpkg gzip)`);
}

// 1. The files, exactly as install.sh lays them out (bookworm keeps units in /lib/systemd/system).
rmSync(join(out, 'deb'), { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
execFileSync('bash', [join(repo, 'install.sh')], {
  env: { ...process.env, DESTDIR: stage, PREFIX: '/usr', SYSTEMD_UNIT_DIR: '/lib/systemd/system', NODE: '/usr/bin/node' },
  stdio: ['ignore', 'ignore', 'inherit'],
});

// 2. Documentation Debian asks of every package: copyright and changelog.
const doc = join(stage, 'usr/share/doc', name);
mkdirSync(doc, { recursive: true });
const year = new Date(epoch * 1000).getUTCFullYear();
const bundled = await bundledPackages();
writeFileSync(
  join(doc, 'copyright'),
  fill(readFileSync(join(repo, 'packaging/deb/copyright'), 'utf8'), {
    SOURCE_LINE: homepage ? `Source: ${homepage}\n` : '',
    YEAR: String(year),
    BUNDLED: bundled.map((p) => `  ${p.name} ${p.version} (${p.license})`).join('\n'),
    BUNDLED_LICENSES: [...new Set(bundled.map((p) => p.license))].filter((l) => l !== 'Apache-2.0').sort().join(' and '),
  }),
);
const date = new Date(epoch * 1000).toUTCString().replace(/GMT$/, '+0000');
const changelog = `${name} (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${maintainer}  ${date}\n`;
writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));

// 3. Control files.
const control = join(stage, 'DEBIAN');
mkdirSync(control, { mode: 0o755 });
const files = walk(stage).filter((f) => !f.startsWith('DEBIAN/'));
// lstat: /usr/sbin/nova-ipmeta is a link (install.sh), which counts as itself and has no md5sum.
const installedKiB = files.reduce((n, f) => n + Math.ceil(lstatSync(join(stage, f)).size / 1024), 0);
writeFileSync(
  join(control, 'control'),
  fill(readFileSync(join(repo, 'packaging/deb/control.in'), 'utf8'), {
    VERSION: version,
    MAINTAINER: maintainer,
    INSTALLED_SIZE: String(installedKiB),
    HOMEPAGE_LINE: homepage ? `Homepage: ${homepage}\n` : '',
    NODE_MINIMUM: nodeMinimum,
  }),
);
for (const script of ['postinst', 'prerm', 'postrm']) {
  copyFileSync(join(repo, 'packaging/deb', script), join(control, script));
  chmodSync(join(control, script), 0o755);
}
for (const f of ['conffiles', 'triggers']) copyFileSync(join(repo, 'packaging/deb', f), join(control, f));
const md5sums = files
  .filter((f) => lstatSync(join(stage, f)).isFile())
  .map((f) => `${createHash('md5').update(readFileSync(join(stage, f))).digest('hex')}  ${f}\n`)
  .join('');
writeFileSync(join(control, 'md5sums'), md5sums);
for (const f of ['control', 'conffiles', 'triggers', 'md5sums']) chmodSync(join(control, f), 0o644);

// 4. Modes a package wants whatever the umask was; timestamps for a reproducible .deb.
for (const f of ['', ...walk(stage)]) {
  const path = join(stage, f);
  if (lstatSync(path).isSymbolicLink()) {
    lutimesSync(path, epoch, epoch);
    continue;
  }
  if (statSync(path).isDirectory()) chmodSync(path, 0o755);
  utimesSync(path, epoch, epoch);
}

execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
  env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.stdout.write(`${relative(process.cwd(), deb) || deb}\n`);

/** Replaces @KEY@ placeholders; a placeholder left over is a mistake. */
function fill(text, values) {
  const filled = text.replace(/@([A-Z_]+)@/g, (m, key) => values[key] ?? m);
  const left = /@[A-Z_]+@/.exec(filled);
  if (left) fail(`no value for ${left[0]}`);
  return filled;
}

/** Every path under dir, relative, sorted. */
function walk(dir) {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

/** The npm packages esbuild puts into the bundle, with version and licence, for the copyright file. */
async function bundledPackages() {
  const result = await build({ ...common, entryPoints: [join(repo, 'src/bin.ts')], write: false, metafile: true, logLevel: 'silent', define, plugins });
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]);
  }
  return [...packages].sort().map((p) => {
    const meta = JSON.parse(readFileSync(join(repo, 'node_modules', p, 'package.json'), 'utf8'));
    // packaging/deb/copyright holds (or names) these licences' texts.
    if (!['MIT', 'ISC', 'Apache-2.0'].includes(meta.license)) fail(`bundled ${p} is under ${meta.license}: add that licence to packaging/deb/copyright`);
    return { name: p, version: meta.version, license: meta.license };
  });
}
