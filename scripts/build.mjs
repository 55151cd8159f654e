// Bundles the program into one executable CommonJS file that needs no node_modules at run time.
// The shebang comes from src/bin.ts. Start-up time matters (libvirt waits on the hook's filter
// path at every incoming migration, and on `find` an operator waits), hence the shim below; each
// command's code is reached through a plain lazy import(), so it runs only when the command does.
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
/** package.json's engines.node (`>=18.19`) is the one place the Node minimum is declared. */
export const nodeMinimum = /^>=\s*(\d+\.\d+)/.exec(pkg.engines?.node ?? '')?.[1];
if (!nodeMinimum) throw new Error('package.json: engines.node must read ">=MAJOR.MINOR"');

export const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, legalComments: 'none', logLevel: 'warning' };
export const define = { NOVA_IPMETA_BUILD: JSON.stringify({ version: pkg.version, nodeMinimum }) };

// xmldom's entities.js freezes ~2,200 HTML entities at load (about 6 ms here); nova-ipmeta parses
// only XML (text/xml), which knows just the five predefined entities.
export const xmlEntitiesOnly = {
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

// prom-client's index loads every metric type, the default process metrics, the cluster
// aggregator and the Pushgateway client (with its HTTP stack) at require time; the metrics need
// its registry, gauges and counters only (src/usecases/reconcile/metrics.ts).
export const promClientCore = {
  name: 'prom-client-core',
  setup(b) {
    b.onResolve({ filter: /^prom-client$/ }, () => ({ path: 'prom-client-core', namespace: 'prom-client-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'prom-client-shim' }, () => ({
      contents: `exports.Registry = require('prom-client/lib/registry');
        exports.Gauge = require('prom-client/lib/gauge');
        exports.Counter = require('prom-client/lib/counter');`,
      loader: 'js',
      resolveDir: new URL('..', import.meta.url).pathname,
    }));
  },
};

/** Every build of the bundle (here, the package's licence list) uses these. */
export const plugins = [xmlEntitiesOnly, promClientCore];

if (import.meta.url === `file://${process.argv[1]}`) {
  const outfile = 'dist/nova-ipmeta.cjs';
  await build({ ...common, entryPoints: ['src/bin.ts'], outfile, define, plugins });
  chmodSync(outfile, 0o755);
}
