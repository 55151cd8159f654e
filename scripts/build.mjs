// Bundles the CLI into one executable CommonJS file that needs no node_modules at run time.
// The shebang comes from src/bin.ts. Start-up time matters (libvirt waits on the hook's filter
// path at every incoming migration, and on `find` an operator waits), hence the choices below.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, legalComments: 'none', logLevel: 'warning' };

// xmldom's entities.js freezes ~2,200 HTML entities at load (about 6 ms here); nova-ipmeta parses
// only XML (text/xml), which knows just the five predefined entities.
const xmlEntitiesOnly = {
  name: 'xmldom-xml-entities-only',
  setup(b) {
    b.onResolve({ filter: /^\.\/entities$/ }, (args) =>
      args.importer.includes('@xmldom') ? { path: 'xml-entities', namespace: 'xmldom-shim' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'xmldom-shim' }, () => ({
      contents: `const XML = Object.freeze({ amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' });
        exports.XML_ENTITIES = XML; exports.HTML_ENTITIES = XML; exports.entityMap = XML;`,
      loader: 'js',
    }));
  },
};

// execa and yargs (about half the bundle) serve only the admin commands and are imported lazily,
// yet V8 would still pre-parse their code at every start. Embedded as strings, they cost nothing
// until first required; then they are compiled as the CommonJS module they were bundled to.
const LAZY_PACKAGES = ['execa', 'yargs'];
async function bundledSource(pkg) {
  const out = await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: process.cwd(), loader: 'js' },
    write: false,
  });
  return out.outputFiles[0].text;
}
const embeddedLazily = (sources) => ({
  name: 'embedded-lazily',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${LAZY_PACKAGES.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'embedded' }));
    b.onLoad({ filter: /.*/, namespace: 'embedded' }, (args) => ({
      contents: `const { compileFunction } = require('node:vm');
        const m = { exports: {} };
        compileFunction(${JSON.stringify(sources[args.path])}, ['module', 'exports', 'require', '__filename', '__dirname'], { filename: 'nova-ipmeta/${args.path}' })(m, m.exports, require, __filename, __dirname);
        module.exports = m.exports;`,
      loader: 'js',
    }));
  },
});

const sources = Object.fromEntries(await Promise.all(LAZY_PACKAGES.map(async (p) => [p, await bundledSource(p)])));
const outfile = 'dist/nova-ipmeta.cjs';
await build({
  ...common,
  entryPoints: ['src/bin.ts'],
  outfile,
  define: { NOVA_IPMETA_VERSION: JSON.stringify(version) },
  plugins: [xmlEntitiesOnly, embeddedLazily(sources)],
});
chmodSync(outfile, 0o755);
