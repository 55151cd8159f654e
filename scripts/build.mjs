// Bundles the program into an executable CommonJS head and the programs file it reads (writeBundle),
// which need no node_modules at run time. Start-up time matters (libvirt waits on the hook's filter
// path at every incoming migration, and on `find` an operator waits), hence the shim below; each
// command's code is reached through a plain lazy import(), so it runs only when the command does.
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { LIBRARY_PROGRAM, PROGRAMS, programsFileOf } from './bundle-layout.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
/** package.json's engines.node (`>=18.19`) is the one place the Node minimum is declared. */
export const nodeMinimum = /^>=\s*(\d+\.\d+)/.exec(pkg.engines?.node ?? '')?.[1];
if (!nodeMinimum) throw new Error('package.json: engines.node must read ">=MAJOR.MINOR"');

export const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', minify: true, legalComments: 'none', logLevel: 'warning' };
export const define = { NOVA_IPMETA_BUILD: JSON.stringify({ version: pkg.version, nodeMinimum }) };

// xmldom's entities.js freezes ~2,200 HTML entities at load (about 6 ms here); nova-ipmeta parses
// only XML (text/xml), which knows just the five predefined entities.
// xmldom's parser builds the RegExp for an end tag's name (thousands of characters of Unicode
// classes) anew at every end tag: most of a parse's time, and garbage. It holds no state (no `g`
// flag), so the build makes it once.
const END_TAG_LINE = "var endTagNameStrict = g.reg('^', g.QName_group, g.S_OPT, '$');";
export const xmldomEndTagOnce = {
  name: 'xmldom-end-tag-regexp-once',
  setup(b) {
    b.onLoad({ filter: /@xmldom[\\/]xmldom[\\/]lib[\\/]sax\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(END_TAG_LINE)) throw new Error(`${args.path}: no "${END_TAG_LINE}" (xmldom changed: see scripts/build.mjs)`);
      const contents = `${text.replace(END_TAG_LINE, 'var endTagNameStrict = END_TAG_NAME_STRICT;')}\nvar END_TAG_NAME_STRICT = g.reg('^', g.QName_group, g.S_OPT, '$');\n`;
      return { contents, loader: 'js' };
    });
  },
};

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

// xmldom's grammar.js builds its regular expressions at load from one another, by source: about
// sixty RegExp objects, thousands of characters of Unicode classes each, for the thirty it
// exports, at every start that builds a DOM (docs/design.md, "Cost"). The build evaluates it,
// with the Node that builds (which has the Unicode support it tests for, as every Node the
// bundle runs on does), and bundles its values instead: the exported expressions as literals of
// their final sources, its functions (sax.js calls `reg` at run time) as they are. Every export
// is checked against the module's own before it is used.
export const xmldomGrammarPrecomputed = {
  name: 'xmldom-grammar-precomputed',
  setup(b) {
    b.onLoad({ filter: /@xmldom[\\/]xmldom[\\/]lib[\\/]grammar\.js$/ }, (args) => {
      const grammar = createRequire(import.meta.url)(args.path);
      const value = (name, v) => {
        if (typeof v === 'function') return name;
        if (v instanceof RegExp) return `/${v.source}/${v.flags}`;
        if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
        throw new Error(`${args.path}: export ${name} is a ${typeof v} (xmldom changed: see scripts/build.mjs)`);
      };
      const entries = Object.entries(grammar);
      const contents = [
        "'use strict';",
        `var UNICODE_SUPPORT = ${JSON.stringify(grammar.UNICODE_SUPPORT)};`,
        ...entries.filter(([, v]) => typeof v === 'function').map(([, f]) => f.toString()),
        ...entries.map(([name, v]) => `exports.${name} = ${value(name, v)};`),
      ].join('\n');
      const made = {};
      new Function('exports', contents)(made);
      for (const [name, v] of entries) {
        const m = made[name];
        const same = v instanceof RegExp ? m instanceof RegExp && m.source === v.source && m.flags === v.flags : typeof v === 'function' ? String(m) === String(v) : m === v;
        if (!same) throw new Error(`${args.path}: export ${name} differs when precomputed (xmldom changed: see scripts/build.mjs)`);
      }
      return { contents, loader: 'js' };
    });
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
export const plugins = [xmlEntitiesOnly, xmldomEndTagOnce, xmldomGrammarPrecomputed, promClientCore];

/**
 * The bundle, two files: `outfile`, scripts/bundle-loader.cjs minified with the programs' lengths,
 * which Node runs; and beside it `.programs` in place of `.cjs`, the programs the head reads and
 * compiles, with V8's code cache when one was made for them (`node nova-ipmeta.cjs
 * --write-code-cache`: the installer does, for the Node it installs for): PROGRAMS, each run by
 * the head for its words (the whole program for the rest), then the XML library, which none of
 * them holds: the head hands it to the one running at its first `require('@xmldom/xmldom')`.
 * Node's loader reads only the small head, and a start reads only the programs it runs
 * (docs/design.md, "The programs file"). A program that runs is compiled once.
 */
export async function writeBundle(outfile, options = {}) {
  const program = async (entry) => {
    // `options` for a build to look into (`{ minify: false }` keeps the names).
    const out = await build({ ...common, ...entry, write: false, outfile, define, plugins, ...options });
    const text = out.outputFiles[0].text.replace(/^#!.*\n/, '');
    return `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
  };
  const xmldom = LIBRARY_PROGRAM.module;
  const programs = {};
  for (const { name, entry } of PROGRAMS) programs[name] = await program({ entryPoints: [entry], external: [xmldom] });
  programs[LIBRARY_PROGRAM.name] = await program({ stdin: { contents: `module.exports = require(${JSON.stringify(xmldom)});`, resolveDir: '.' } });
  for (const [name, text] of Object.entries(programs)) checkAscii(`the ${name}`, text);
  const texts = Object.values(programs);
  const buildId = createHash('sha256').update(JSON.stringify(texts)).digest('hex').slice(0, 16);
  const loader = await transform(readFileSync(new URL('bundle-loader.cjs', import.meta.url), 'utf8'), {
    minify: true,
    legalComments: 'none',
    define: {
      BUILD_ID: JSON.stringify(buildId),
      XML_LIBRARY: JSON.stringify(xmldom),
      PROGRAM_WORDS: JSON.stringify(PROGRAMS.flatMap(({ words }, i) => words.map((w) => [w, i]))),
      PROGRAM_NAMES: JSON.stringify(Object.keys(programs)),
    },
  });
  mkdirSync(dirname(outfile), { recursive: true });
  // The programs first: a head never names programs that are not there yet.
  writeFileSync(programsFileOf(outfile), `nova-ipmeta programs ${buildId}\n${texts.join('')}`, 'latin1');
  writeFileSync(outfile, `#!/usr/bin/env node\n${loader.code}start([${texts.map((t) => t.length).join(', ')}]);\n`);
  chmodSync(outfile, 0o755);
  // A cache made for the previous build is useless now (and refused: another BUILD_ID).
  rmSync(`${outfile}.cache`, { force: true });
}

// The head reads each program as Latin-1, one byte a character, which is right for ASCII alone;
// esbuild writes every other character as an escape (its default charset), and this checks it.
export function checkAscii(name, text) {
  const at = text.search(/[\u0080-\uffff]/);
  if (at >= 0) throw new Error(`${name} holds a character outside ASCII at ${at} (${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}): the head reads it as Latin-1 (scripts/build.mjs, checkAscii)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeBundle('dist/nova-ipmeta.cjs');
}
