/**
 * Hostile input, property-based: valid network_info and domain XML, then mutated (hostile-gen.ts),
 * fed as files to the three commands that take them (`inject`, `render`, `cache put`), in process
 * through runMain and, for a sample, through the built bundle. Every case must either write
 * correct ports (exit 0, in sync when read back, nothing outside <nova:ports> changed; `cache
 * put` stores a file that reads back valid) or refuse with one clear line on stderr (exit 2, and
 * `cache put` leaves the previous file as it was): never an unhandled exception, a stack trace or
 * another exit code.
 *
 * PROVE_CASES (in-process cases), PROVE_BUNDLE_CASES (bundle sample), FC_SEED (replay).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheStore } from '../../src/adapters/cache-store';
import { decodeUtf8 } from '../../src/adapters/file-read';
import { parseDomain } from '../../src/core/domain';
import { injectPorts } from '../../src/core/inject';
import type { Vif } from '../../src/core/model';
import { parseNetworkInfo } from '../../src/core/network-info';
import { parseXml } from '../../src/core/xml-document';
import { BUNDLE, runInProcess } from '../support/cli';
import { outsidePorts } from '../support/canonical-dom';
import { evidence, knob } from './evidence';
import { hostilePair, type HostileCase } from './hostile-gen';

const CASES = knob('PROVE_CASES', 300, 3000);
const BUNDLE_CASES = knob('PROVE_BUNDLE_CASES', 20, 200);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed ${SEED} (FC_SEED=${SEED} replays it)`);

const dir = mkdtempSync(join(tmpdir(), 'nova-ipmeta-hostile-'));
const state = join(dir, 'state');
const UUID = '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5';
const PREVIOUS = JSON.stringify([{ id: '567a4527-b0e4-4d0a-bcc2-71fda37897f7', address: 'fa:16:3e:00:00:01', network: { subnets: [{ ips: [{ address: '10.0.0.1', type: 'fixed', version: 4 }] }] } }]);
const store = new CacheStore(join(state, 'network_info'));
mkdirSync(store.dir, { recursive: true, mode: 0o700 });
mkdirSync(state, { recursive: true, mode: 0o700 });

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const tally = { cases: 0, runs: 0, accepted: 0, refused: 0, outsideUnchecked: 0, whitespaceOnly: 0 };
const byMutation = new Map<string, number>();

/** The exit code and stderr contract: 0, or 2 with one clear line. Returns whether it accepted. */
function judge(label: string, r: Result): boolean {
  tally.runs++;
  if (r.code !== 0 && r.code !== 2) throw new Error(`${label}: exit ${r.code}; stderr ${r.stderr.slice(0, 2000)}`);
  if (r.code === 2) {
    tally.refused++;
    if (!/^nova-ipmeta: [^\n]+\n$/.test(r.stderr)) throw new Error(`${label}: refusal is not one line: ${JSON.stringify(r.stderr.slice(0, 2000))}`);
    if (/internal error|\n\s+at |\bat .*:\d+:\d+\)/.test(r.stderr)) throw new Error(`${label}: refusal looks like a crash: ${r.stderr.slice(0, 2000)}`);
    if (r.stderr.length > 1000) throw new Error(`${label}: refusal of ${r.stderr.length} characters: ${r.stderr.slice(0, 300)}…`);
    return false;
  }
  tally.accepted++;
  if (r.stderr !== '') throw new Error(`${label}: exit 0 with stderr ${r.stderr.slice(0, 2000)}`);
  return true;
}

/** What the commands read: the bytes decoded as UTF-8, as readInput does (a byte order mark is no text). */
const text = (c: HostileCase) => decodeUtf8(c.bytes, 'oracle');

/** inject accepted: its output is in sync with the same network_info, and nothing else changed. */
function checkInject(info: HostileCase, domain: HostileCase, stdout: string): void {
  const vifs: Vif[] = parseNetworkInfo(text(info), 'oracle');
  const input = text(domain);
  const result = injectPorts(parseDomain(stdout, 'inject output'), vifs);
  if (result.kind === 'changed') throw new Error(`inject output not in sync: ${JSON.stringify(result.changes).slice(0, 500)}`);
  let before: string[];
  try {
    before = outsidePorts(input);
  } catch {
    tally.outsideUnchecked++; // the independent reader cannot take it (e.g. too deep for its recursion)
    return;
  }
  const after = outsidePorts(stdout);
  if (JSON.stringify(after) === JSON.stringify(before)) return;
  // Stray text directly inside the nova element (e.g. a U+FFFD from a broken byte) keeps inject's
  // layout whitespace around the new <nova:ports>, which the strict reader counts as a change:
  // allowed, and counted, as long as nothing but whitespace at the ends of text nodes differs.
  const trimmed = (lines: string[]) => lines.map((l) => l.replace(/^(\s*text )"(.*)"$/, (_m, pad: string, body: string) => `${pad}${JSON.stringify((JSON.parse(`"${body}"`) as string).trim())}`));
  assert.equal(trimmed(after), trimmed(before), 'inject changed something outside <nova:ports>');
  tally.whitespaceOnly++;
}

function checkRender(info: HostileCase, stdout: string): void {
  const vifs = parseNetworkInfo(text(info), 'oracle');
  parseXml(stdout, 'render output');
  assert.is((stdout.match(/<nova:port /g) ?? []).length, vifs.length, 'render: one port per VIF');
}

function write(info: HostileCase, domain: HostileCase): { ni: string; dom: string } {
  const ni = join(dir, 'network_info.json');
  const dom = join(dir, 'domain.xml');
  writeFileSync(ni, info.bytes);
  writeFileSync(dom, domain.bytes);
  return { ni, dom };
}

function count(c: HostileCase): void {
  for (const m of new Set(c.mutations)) byMutation.set(m, (byMutation.get(m) ?? 0) + 1);
}

test(`in process: inject, render and cache put on hostile input (${CASES} cases)`, async () => {
  await fc.assert(
    fc.asyncProperty(hostilePair, async ({ info, domain }) => {
      tally.cases++;
      count(info);
      count(domain);
      const { ni, dom } = write(info, domain);
      const inject = await runInProcess(['inject', dom, ni]);
      if (judge('inject', inject)) checkInject(info, domain, inject.stdout);

      const render = await runInProcess(['render', ni]);
      if (judge('render', render)) checkRender(info, render.stdout);

      writeFileSync(store.path(UUID), PREVIOUS, { mode: 0o600 });
      const put = await runInProcess(['cache', 'put', UUID, ni, '--state-dir', state]);
      if (judge('cache put', put)) {
        const back = store.read(UUID);
        assert.is(back.kind, 'ok', 'cache put accepted a file that does not read back valid');
      } else {
        assert.is(readFileSync(store.path(UUID), 'utf8'), PREVIOUS, 'a refused cache put changed the stored file');
      }
      // The commands agree on what is valid network_info (inject may also refuse the domain).
      if (put.code !== render.code) throw new Error(`cache put exited ${put.code} but render ${render.code}: ${put.stderr}${render.stderr}`);
      if (render.code === 2 && inject.code !== 2) throw new Error(`inject accepted network_info that render refused: ${render.stderr}`);
    }),
    { seed: SEED, numRuns: CASES, includeErrorInReport: true },
  );
  assert.ok(tally.accepted > 0 && tally.refused > 0, 'both outcomes occur');
});

test(`through the built bundle: a sample (${BUNDLE_CASES} cases), same outcome as in process`, async () => {
  const sample = fc.sample(hostilePair, { seed: SEED + 1, numRuns: BUNDLE_CASES });
  let bundleRuns = 0;
  for (const { info, domain } of sample) {
    tally.cases++;
    count(info);
    count(domain);
    const { ni, dom } = write(info, domain);
    for (const argv of [['inject', dom, ni], ['render', ni]]) {
      const r = spawnSync(process.execPath, [BUNDLE, ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const res: Result = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
      bundleRuns++;
      const accepted = judge(`bundle ${argv[0] ?? ''}`, res);
      const inProcess = await runInProcess(argv);
      assert.is(res.code, inProcess.code, `bundle and in-process differ on ${argv[0] ?? ''}: ${res.stderr} / ${inProcess.stderr}`);
      if (accepted && argv[0] === 'inject') checkInject(info, domain, res.stdout);
      if (accepted && argv[0] === 'render') checkRender(info, res.stdout);
    }
  }
  evidence('hostile-input', {
    cases: tally.cases,
    command_runs: tally.runs,
    bundle_runs: bundleRuns,
    accepted: tally.accepted,
    refused_exit2: tally.refused,
    crashes: 0,
    outside_unchecked: tally.outsideUnchecked,
    layout_whitespace_only: tally.whitespaceOnly,
    seed: SEED,
  });
  console.log(`  mutations seen: ${[...byMutation].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
