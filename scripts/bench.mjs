// Runs the benchmarks: every bench/*.mjs except the shared lib.mjs, or only those named.
// Usage: npm run bench [-- NAME...]   e.g. npm run bench -- cold-start
// Each runs on the machine's own Node, one after another (they measure time: never in parallel).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { systemNode } from './system-node.mjs';


const all = readdirSync('bench')
  .filter((f) => f.endsWith('.mjs') && f !== 'lib.mjs')
  .map((f) => basename(f, '.mjs'))
  .sort();
const asked = process.argv.slice(2).map((a) => basename(a).replace(/\.mjs$/, ''));
const unknown = asked.filter((a) => !all.includes(a));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; benchmarks: ${all.join(' ')}\n`);
  process.exitCode = 2;
} else {
  let failed = 0;
  for (const name of asked.length ? asked : all) {
    process.stdout.write(`\n== bench ${name}\n`);
    const r = spawnSync(systemNode, [join('bench', `${name}.mjs`)], { stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
  if (failed) process.exitCode = 1;
}
