// Cold start of the bundle against a bare `node -e 0`, on the system Node and on Node 18.20.4
// (Debian 12's): `render` of two-ports.json, and `inject` of the wallaby fixture with it, the
// work the hook's filter path does while libvirt waits, each with the code cache the installer
// makes for that Node (`--write-code-cache`) and without one. The goal is under 1.3x of bare node;
// beside it, bare node requiring node:fs, which the bundle's head does first (the floor of any
// program that reads a file), and `inject` of the same domain behind an XML declaration, which
// sends it to the XML library's DOM (core/lean-xml.ts reads the fixture itself), reported apart.
// Usage: node bench/cold-start.mjs [--no-build]   (BENCH_RUNS=n, default 30)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyBundle, machineLine, measure, report } from './lib.mjs';
import { node18, systemNode } from '../scripts/system-node.mjs';

const GOAL = 1.3;
const FLOOR = 'node -e "require(\'node:fs\')"';
const root = fileURLToPath(new URL('..', import.meta.url));
const at = (p) => join(root, p);
const bundle = at('dist/nova-ipmeta.cjs');
const twoPorts = at('test/fixtures/network_info/two-ports.json');
const wallaby = at('test/fixtures/domains/wallaby-nova-ports.xml');

const nodes = [
  [`node ${spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim()}`, systemNode],
  ['node v18.20.4', node18],
];

if (!process.argv.includes('--no-build')) {
  const b = spawnSync(systemNode, [at('scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
}

// One copy of the bundle per Node, each with the code cache made by that Node, and one without.
const work = mkdtempSync(join(tmpdir(), 'bench-cold-start-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const bundleFor = (name, node) => {
  mkdirSync(join(work, name));
  const copy = join(work, name, 'nova-ipmeta.cjs');
  copyBundle(bundle, copy);
  if (node) {
    const made = spawnSync(node, [copy, '--write-code-cache'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`--write-code-cache: ${made.stderr}`);
  }
  return copy;
};
const uncached = bundleFor('no-cache');
const DOM_PATH = 'inject, read by the DOM';
const declared = join(work, 'wallaby-declared.xml');
writeFileSync(declared, `<?xml version="1.0" encoding="UTF-8"?>\n${readFileSync(wallaby, 'utf8')}`);
const contenders = {};
for (const [i, [label, node]] of nodes.entries()) {
  const cached = bundleFor(`node-${i}`, node);
  contenders[`${label}: node -e 0`] = { argv: [node, '-e', '0'] };
  // What any program that reads a file pays first: on Node 18, a first require of node:fs builds
  // its ESM facade, which reads every export, fs.ReadStream's getter too, and that loads Node's
  // streams; Node 20 loads them only for an ESM import (docs/design.md, "Cost").
  contenders[`${label}: ${FLOOR}`] = { argv: [node, '-e', "require('node:fs')"] };
  contenders[`${label}: render two-ports.json`] = { argv: [node, cached, 'render', twoPorts] };
  contenders[`${label}: inject wallaby + two-ports`] = { argv: [node, cached, 'inject', wallaby, twoPorts] };
  contenders[`${label}: inject, no code cache`] = { argv: [node, uncached, 'inject', wallaby, twoPorts] };
  contenders[`${label}: ${DOM_PATH}`] = { argv: [node, cached, 'inject', declared, twoPorts] };
}
const runs = Number(process.env.BENCH_RUNS ?? 30);
console.log(`cold start, ${runs} interleaved runs each (after 2 warm-up rounds), medians`);
console.log(machineLine());
const results = measure(contenders, { runs, warmup: 2 });

let worst = 0;
let worstDom = 0;
for (const [label] of nodes) {
  const mine = Object.fromEntries(Object.entries(results).filter(([name]) => name.startsWith(`${label}: `)));
  report(label, mine, `${label}: node -e 0`);
  const { median: base, pages } = results[`${label}: node -e 0`];
  for (const [name, r] of Object.entries(mine)) {
    if (name.endsWith(DOM_PATH)) worstDom = Math.max(worstDom, r.median / base);
    else if (!name.endsWith('node -e 0') && !name.endsWith(FLOOR) && !name.endsWith('no code cache')) worst = Math.max(worst, r.median / base);
    console.log(`    ${name.slice(label.length + 2).padEnd(28)} +${(r.median - base).toFixed(1)} ms, +${r.pages - pages} pages over bare node (min ${r.min.toFixed(1)} ms)`);
  }
}
console.log(`\nworst ratio with the code cache ${worst.toFixed(2)}x: goal < ${GOAL}x ${worst < GOAL ? 'met' : 'NOT met'}`);
console.log(`${DOM_PATH} (XML outside the lean reader's subset), worst ${worstDom.toFixed(2)}x`);
