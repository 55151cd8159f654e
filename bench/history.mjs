// `nova-ipmeta history ADDRESS` over a log of a million records, against `node -e 0` (the floor of
// any Node command) and `cat` of the same files (a plain read of what `history` must read), and
// for reference `grep -F` of the address (what an operator would do by hand, with no intervals).
//
// The log is written here as the writers write it (src/core/history.ts, formatRecord: the same
// keys in the same order), in files of the default rotation size, 16 MiB: 2000 instances over a
// year, addresses added and removed, floating IPs moving between instances. The answers are
// checked (the intervals of the address that moved), so a change of format cannot go unnoticed.
//
// Usage: npm run build && node bench/history.mjs [--records N] [--runs N]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, report } from './lib.mjs';

const { values: opts } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '10' } } });
const N = Number(opts.records);
const RUNS = Number(opts.runs);
const repo = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(repo, 'dist/nova-ipmeta.cjs');
if (!existsSync(BUNDLE)) throw new Error('run `npm run build` first');

const FILE_BYTES = 16 * 1024 * 1024;
const INSTANCES = 2000;
const hex = (i, width) => i.toString(16).padStart(width, '0');
const instance = (i) => ({
  domain: `instance-${hex(i, 8)}`,
  instance: `0c1d2e3f-4a5b-4c6d-8e7f-${hex(i, 12)}`,
  name: `vm-${i}`,
  project: `f241e906-010e-4917-ae81-${hex(i % 40, 12)}`,
  port: `567a4527-b0e4-4d0a-bcc2-${hex(i, 12)}`,
  mac: `fa:16:3e:${hex((i >> 16) & 255, 2)}:${hex((i >> 8) & 255, 2)}:${hex(i & 255, 2)}`,
});
/** The key order of formatRecord. */
const line = (time, event, by, who, address, type) =>
  `${JSON.stringify({ time, event, by, domain: who.domain, instance: who.instance, name: who.name, project: who.project, port: who.port, mac: who.mac, address, type, version: 4 })}\n`;

const work = mkdtempSync(join(tmpdir(), 'bench-history-'));
let ok = false;
try {
  const state = join(work, 'state');
  const dir = join(state, 'history');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const config = join(work, 'nova-ipmeta.conf');
  writeFileSync(config, '');

  // The address asked about: a floating IP that moves between instances every 20000 records.
  const MOVING = '198.51.100.7';
  const start = Date.parse('2025-11-30T00:00:00Z');
  const step = (365 * 86_400_000) / N;
  const chunks = [];
  let files = 0;
  let fd;
  let size = 0;
  let holder;
  let moves = 0;
  const flush = () => {
    if (chunks.length === 0) return;
    const text = chunks.join('');
    chunks.length = 0;
    writeSync(fd, text);
    size += Buffer.byteLength(text);
  };
  // Files are written newest-last, then named as rotation names them: the log itself, .1 the newest rotated.
  const paths = [];
  const open = () => {
    if (fd !== undefined) {
      flush();
      closeSync(fd);
    }
    const path = join(dir, `part${files++}`);
    paths.push(path);
    fd = openSync(path, 'w', 0o600);
    size = 0;
  };
  open();
  let count = 0;
  const push = (text) => {
    chunks.push(text);
    count++;
  };
  for (let r = 0; count < N; r++) {
    const time = new Date(start + count * step).toISOString();
    if (r % 20_000 === 0) {
      const next = instance(((r / 20_000) * 37) % INSTANCES);
      if (holder) push(line(time, 'removed', 'repair', holder, MOVING, 'floating'));
      push(line(time, 'added', holder ? 'repair' : 'seed', next, MOVING, 'floating'));
      holder = next;
      moves++;
      continue;
    }
    // Churn elsewhere: each instance in turn gains an address, and loses it on its next turn.
    const round = Math.floor(r / INSTANCES);
    const i = r % INSTANCES;
    const n = Math.floor(round / 2) * INSTANCES + i;
    const a = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    push(line(time, round & 1 ? 'removed' : 'added', r % 3 ? 'found' : 'repair', instance(i), a, i % 5 ? 'fixed' : 'floating'));
    if (chunks.length >= 4096) {
      flush();
      if (size >= FILE_BYTES) open();
    }
  }
  flush();
  closeSync(fd);
  // Oldest first above: the last part is the log, the one before it .1, and so on.
  paths.reverse().forEach((p, i) => renameSync(p, join(dir, i === 0 ? 'addresses.jsonl' : `addresses.jsonl.${i}`)));
  const logs = readdirSync(dir).map((f) => join(dir, f));
  const total = logs.reduce((n, f) => n + statSync(f).size, 0);
  console.log(`${N} records in ${logs.length} files, ${(total / 1024 / 1024).toFixed(0)} MiB; ${MOVING} held by ${moves} instances in turn`);

  const history = (...args) => [process.execPath, BUNDLE, 'history', ...args, '--state-dir', state, '--config', config];
  const check = spawnSync(history(MOVING, '--json')[0], history(MOVING, '--json').slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (check.status !== 0) throw new Error(`history: exit ${check.status}: ${check.stderr}`);
  const rows = JSON.parse(check.stdout);
  if (rows.length !== moves || rows.filter((r) => r.until === null).length !== 1) throw new Error(`history gave ${rows.length} intervals, ${moves} expected`);
  const mid = new Date(start + 0.5 * 365 * 86_400_000).toISOString();
  const at = spawnSync(history(MOVING, '--at', mid, '-f', 'value', '-c', 'domain')[0], history(MOVING, '--at', mid, '-f', 'value', '-c', 'domain').slice(1), { encoding: 'utf8' });
  if (at.status !== 0 || at.stdout.split('\n').length !== 2) throw new Error(`history --at: ${at.status} ${at.stdout} ${at.stderr}`);

  const contenders = {
    'node -e 0': { argv: [process.execPath, '-e', '0'] },
    [`cat of the ${logs.length} files`]: { argv: ['cat', ...logs] },
    [`grep -F -h ADDRESS (no intervals)`]: { argv: ['grep', '-F', '-h', `"address":"${MOVING}"`, ...logs] },
    'history ADDRESS': { argv: history(MOVING) },
    'history ADDRESS --at TIME': { argv: history(MOVING, '--at', mid) },
    'history MAC': { argv: history(instance(5).mac) },
  };
  const results = measure(contenders, { runs: RUNS });
  report(`history over ${N} records (${RUNS} interleaved runs, node ${process.version}): wall time`, results, 'node -e 0');
  const h = results['history ADDRESS'].median;
  console.log(`\nhistory ADDRESS: ${(h / 1000).toFixed(2)} s (goal: under 1 s); ${(h / results['node -e 0'].median).toFixed(1)}x node -e 0, ${(h / results[`cat of the ${logs.length} files`].median).toFixed(1)}x cat`);
  ok = true;
} finally {
  rmSync(work, { recursive: true, force: true });
  if (!ok) process.exitCode = 1;
}
