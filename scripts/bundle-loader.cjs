// The head of the bundle (scripts/build.mjs writes `<this, minified>start("(function (exports,
// require, module, __filename, __dirname) {<the whole program>})", "(function ... {<the hook's
// engine>})")`): the programs travel as strings, so that Node's own loader compiles only this
// head, and the one that runs is compiled here with V8's code cache for it when one was made for
// this very build on this very Node (`node nova-ipmeta.cjs --write-code-cache`, run by the
// installer). The hook's engine (src/hook-bin.ts) runs for `nova-ipmeta hook`: libvirt waits on
// its start, which then compiles and deserializes a fraction of what the whole program's does. The
// cache holds the bytecode of the functions a start needs; without it V8 compiles them as usual.
//
// The cache file, beside the bundle: a header line `nova-ipmeta code cache BUILD_ID NODE ARCH
// LENGTH LENGTH`, then V8's data for each program in turn, of those lengths. Another build
// (BUILD_ID: a hash of the programs' text), another Node (an upgrade: V8 also refuses data made
// by another V8 or with other flags) or a short file: not used, silently, and the program is
// compiled as usual. Nothing here ever writes the cache except `--write-code-cache`; a start
// never fails because of it.
'use strict';

function start(...programs) {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const file = __filename;
  const write = process.argv[2] === '--write-code-cache';
  const cacheFile = (write && process.argv[3]) || `${file}.cache`;
  const header = `nova-ipmeta code cache ${BUILD_ID} ${process.version} ${process.arch} `;
  // V8's data for program `i` from the cache file, or undefined; only that program's bytes are read.
  const cachedData = (i) => {
    let fd;
    try {
      fd = fs.openSync(cacheFile, 'r');
      const head = Buffer.alloc(200);
      const got = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
      const eol = got.indexOf(10);
      const line = eol > 0 ? got.toString('latin1', 0, eol) : '';
      const fields = line.startsWith(header) ? line.slice(header.length) : '';
      if (!/^\d+( \d+)*$/.test(fields)) return undefined;
      const lengths = fields.split(' ').map(Number);
      if (lengths.length !== programs.length || lengths.reduce((a, b) => a + b, 0) !== fs.fstatSync(fd).size - eol - 1) return undefined;
      const data = Buffer.allocUnsafe(lengths[i]);
      const at = eol + 1 + lengths.slice(0, i).reduce((a, b) => a + b, 0);
      return fs.readSync(fd, data, 0, data.length, at) === data.length ? data : undefined;
    } catch {
      return undefined; // none, or unreadable: compiled as usual
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
  // Each program is the CommonJS function wrapper around its text (scripts/build.mjs).
  const compile = (i, data) => new vm.Script(programs[i], { filename: file, ...(data ? { cachedData: data } : {}) });
  const run = (script) => script.runInThisContext()(module.exports, require, module, file, __dirname);
  // What a start of program `i` gets from the cache: `used` (V8 takes its part), `refused` (V8
  // does not: data of another V8 or other flags, or garbled), `none` (no cache of this build for
  // this Node). `doctor` reports it (src/adapters/code-cache.ts), through the module object. Once
  // per program and process: V8 compiles a source it has compiled already from its own memory,
  // without looking at the data, so the running program's is what its start met.
  const states = [];
  const record = (i, data, script) => (states[i] = data === undefined ? 'none' : script.cachedDataRejected ? 'refused' : 'used');
  const state = (i) => {
    if (states[i] === undefined) {
      const data = cachedData(i);
      record(i, data, compile(i, data));
    }
    return states[i];
  };
  module.codeCache = { bundle: file, file: cacheFile, states: () => programs.map((_, i) => state(i)) };
  if (!write) {
    const i = process.argv[2] === 'hook' ? 1 : 0;
    const data = cachedData(i);
    const script = compile(i, data);
    record(i, data, script);
    run(script);
    return;
  }
  // Made already for this build and this Node, and V8 takes it: an install run again changes nothing.
  if (programs.every((_, i) => state(i) === 'used')) return;
  // Each program's own warm-up runs what a start on libvirt's or an operator's path compiles; at
  // exit, what V8 compiled so far is written, by rename so a start never sees half a file.
  const scripts = programs.map((_, i) => compile(i, undefined));
  process.argv.splice(2, process.argv.length - 2, '__warm-up');
  process.on('exit', (code) => {
    if (code !== 0) return;
    const data = scripts.map((script) => script.createCachedData());
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${header}${data.map((d) => d.length).join(' ')}\n`, 'latin1'), ...data]), { mode: 0o644 });
      fs.renameSync(tmp, cacheFile);
    } catch (err) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // never created
      }
      process.stderr.write(`nova-ipmeta: cannot write the code cache ${cacheFile}: ${err.code ?? err.message}\n`);
      process.exitCode = 3;
    }
  });
  scripts.forEach(run);
}
