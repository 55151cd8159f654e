// `npm run prove`: the long version of the evidence tests (hostile input, the attacks of the
// hardening review and faults on a real daemon, load, and the hook's start/stop endurance), then
// a summary an operator can read. CI runs the short version of the same files inside `npm test`
// (unit and libvirt groups).
//
// Durations and counts come from the environment (test/prove/evidence.ts): PROVE_LONG=1 is set
// here unless PROVE_LONG=0; PROVE_CASES, PROVE_BUNDLE_CASES, PROVE_ATTACK_ELEMENTS, PROVE_FAULT_GUESTS,
// PROVE_FAULT_ROUNDS, PROVE_LOAD_SECONDS, PROVE_LOAD_GUESTS, PROVE_LOAD_KERNEL_GUESTS,
// PROVE_TIMER_SECONDS, NOVA_IPMETA_HOOK_CYCLES (default 100 here); FC_SEED replays the inputs.
// Usage: npm run prove [-- hostile attacks faults load hook]   (default: all five, in that order)
import { spawnSync } from 'node:child_process';
import { systemNode } from './system-node.mjs';

const parts = {
  hostile: 'test/prove/hostile-input.test.ts',
  attacks: 'test/prove/attacks.libvirt.test.ts',
  faults: 'test/prove/faults.libvirt.test.ts',
  load: 'test/prove/load.libvirt.test.ts',
  hook: 'test/commands/hook.libvirt.test.ts',
};
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(parts);
const unknown = wanted.filter((w) => !(w in parts));
if (unknown.length) {
  process.stderr.write(`unknown part ${unknown.join(' ')}; parts: ${Object.keys(parts).join(' ')}\n`);
  process.exit(2);
}
const env = { ...process.env, PROVE_LONG: process.env.PROVE_LONG ?? '1', NOVA_IPMETA_HOOK_CYCLES: process.env.NOVA_IPMETA_HOOK_CYCLES ?? '100' };
const build = spawnSync(systemNode, ['scripts/build.mjs'], { stdio: 'inherit', env });
if (build.status !== 0) process.exit(1);

const summary = [];
let failed = 0;
for (const part of wanted) {
  const file = parts[part];
  const began = Date.now();
  process.stdout.write(`\n== prove ${part}: ${file}\n`);
  const r = spawnSync(systemNode, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'], env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  process.stdout.write(r.stdout ?? '');
  const ok = r.status === 0 && !/\bFAIL\b/.test(r.stdout ?? '');
  if (!ok) failed++;
  const lines = (r.stdout ?? '').split('\n');
  const evidence = lines.filter((l) => l.includes('PROVE ')).map((l) => l.slice(l.indexOf('PROVE ') + 6));
  // hook.test.ts prints its endurance figures as a sentence
  const cycles = lines.find((l) => /\d+ cycles in .* s/.test(l));
  if (cycles) evidence.push(`hook-endurance: ${cycles.replace(/^[^0-9]*/, '').trim()}`);
  summary.push({ part, ok, seconds: Math.round((Date.now() - began) / 1000), evidence });
}

console.log('\n== nova-ipmeta prove: summary');
for (const s of summary) {
  console.log(`${s.ok ? 'PASS' : 'FAIL'} ${s.part} (${s.seconds} s)`);
  for (const e of s.evidence) console.log(`  ${e}`);
}
console.log(failed ? `${failed} part(s) failed` : 'all parts passed: nothing lost');
process.exitCode = failed ? 1 : 0;
