// Bundles the CLI into one executable CommonJS file that needs no node_modules at run time.
// The shebang comes from src/bin.ts. Start-up time matters (libvirt waits on the hook's filter
// path at every incoming migration), hence the minification and the entities shim below.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

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

const outfile = 'dist/nova-ipmeta.cjs';
await build({
  entryPoints: ['src/bin.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  minify: true,
  keepNames: false,
  legalComments: 'none',
  define: { NOVA_IPMETA_VERSION: JSON.stringify(version) },
  plugins: [xmlEntitiesOnly],
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
