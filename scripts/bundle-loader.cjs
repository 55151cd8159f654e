// The bundle's head: dist/nova-ipmeta.cjs is this file, minified, then `start([<lengths>])`; the
// programs it runs are in dist/nova-ipmeta.programs beside it (scripts/build.mjs): a first line
// `nova-ipmeta programs BUILD_ID`, then the programs one after the other, of those lengths, each
// the CommonJS function wrapper around its text. Node's loader reads and compiles only this small
// file; a start reads only the programs it runs (docs/design.md, "The programs file"). Each is
// compiled here with V8's code cache for it when one was made for this very build on this very
// Node (`node nova-ipmeta.cjs --write-code-cache`, run by the installer). argv's first word picks
// the program (PROGRAM_WORDS, from PROGRAMS in scripts/bundle-layout.mjs, which says which serves what: the hook's
// engine for `nova-ipmeta hook`, on whose start libvirt waits, among them); the whole program
// (src/bin.ts) runs the rest. Each smaller one reads, compiles and deserializes a fraction of
// what the whole program's start does. The XML library
// (@xmldom/xmldom), the last program, is part of none of them: it is what the one running gets
// for `require('@xmldom/xmldom')`, compiled at that first require (src/core/xmldom.cjs), so it
// travels once, and a start that builds no DOM (a migration in sync, `find`) neither reads nor
// compiles it. The cache holds the bytecode of the functions a start needs; without it V8
// compiles them as usual.
//
// The cache file, beside the bundle: a header line `nova-ipmeta code cache BUILD_ID NODE ARCH
// LENGTH LENGTH LENGTH`, then V8's data for each program in turn, of those lengths. Another build
// (BUILD_ID: a hash of the programs' text), another Node (an upgrade: V8 also refuses data made
// by another V8 or with other flags) or a short file: not used, silently, and the program is
// compiled as usual. Nothing here ever writes the cache except `--write-code-cache`; a start
// never fails because of it. A programs file of another build is another matter: nothing can run,
// and the start ends with one line that says so.
'use strict';

function start(lengths) {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const file = __filename;
  const programsFile = file.replace(/\.cjs$/, '.programs');
  const programsHeader = `nova-ipmeta programs ${BUILD_ID}\n`;
  // Program `i`'s text, read from the programs file (ASCII: the build checks it); the process ends
  // with one line when that file is not this build's, since no program can run then.
  const texts = [];
  // Opened and checked at the first read, then kept open: a later program comes from the very file
  // the first did, even if an upgrade has put another in its place since.
  let programsFd;
  const program = (i) => {
    if (texts[i] !== undefined) return texts[i];
    try {
      if (programsFd === undefined) {
        const fd = fs.openSync(programsFile, 'r');
        const head = Buffer.alloc(programsHeader.length);
        const size = programsHeader.length + lengths.reduce((a, b) => a + b, 0);
        if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || head.toString('latin1') !== programsHeader || fs.fstatSync(fd).size !== size) {
          throw new Error(`not the programs of this build (${BUILD_ID}): install nova-ipmeta again`);
        }
        programsFd = fd;
      }
      const text = Buffer.allocUnsafe(lengths[i]);
      const at = programsHeader.length + lengths.slice(0, i).reduce((a, b) => a + b, 0);
      if (fs.readSync(programsFd, text, 0, text.length, at) !== text.length) throw new Error('cut short');
      return (texts[i] = text.toString('latin1'));
    } catch (err) {
      process.stderr.write(`nova-ipmeta: ${programsFile}: ${err.code ? `cannot read (${err.code})` : err.message}\n`);
      process.exit(3); // ExitCode.failure (src/exit-code.ts): nothing can run
    }
  };
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
      const parts = fields.split(' ').map(Number);
      if (parts.length !== lengths.length || parts.reduce((a, b) => a + b, 0) !== fs.fstatSync(fd).size - eol - 1) return undefined;
      const data = Buffer.allocUnsafe(parts[i]);
      const at = eol + 1 + parts.slice(0, i).reduce((a, b) => a + b, 0);
      return fs.readSync(fd, data, 0, data.length, at) === data.length ? data : undefined;
    } catch {
      return undefined; // none, or unreadable: compiled as usual
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
  // Each program is the CommonJS function wrapper around its text (scripts/build.mjs).
  const compile = (i, data) => new vm.Script(program(i), { filename: file, ...(data ? { cachedData: data } : {}) });
  // What a start of program `i` gets from the cache: `used` (V8 takes its part), `refused` (V8
  // does not: data of another V8 or other flags, or garbled), `none` (no cache of this build for
  // this Node). `doctor` reports it for each program by its name (PROGRAM_NAMES, the build's),
  // through the module object (src/adapters/code-cache.ts). Once
  // per program and process: V8 compiles a source it has compiled already from its own memory,
  // without looking at the data, so a program that ran has what its start met.
  const states = [];
  // Program `i` compiled as a start compiles it: with its part of the cache, if there is one.
  const compiled = (i) => {
    const data = cachedData(i);
    const script = compile(i, data);
    states[i] = data === undefined ? 'none' : script.cachedDataRejected ? 'refused' : 'used';
    return script;
  };
  const state = (i) => {
    if (states[i] === undefined) compiled(i);
    return states[i];
  };
  // `warmingUp`: this start runs the programs for `--write-code-cache`, to run their warm-up and
  // nothing else (src/warm-up/); they read it with `warmingUp()` (src/adapters/code-cache.ts).
  module.codeCache = { bundle: file, file: cacheFile, programs: () => PROGRAM_NAMES.map((program, i) => ({ program, state: state(i) })), warmingUp: write };
  let scripts; // when writing the cache: every program, compiled without it
  const LIBRARY = lengths.length - 1;
  let library; // the XML library's exports, once required
  const run = (script, into = module) => script.runInThisContext()(into.exports, requireFrom, into, file, __dirname);
  // The programs' `require`: Node's, but for the XML library, which is a program here.
  const requireFrom = (id) => {
    if (id !== XML_LIBRARY) return require(id);
    if (library === undefined) {
      const into = { exports: {} };
      run(scripts?.[LIBRARY] ?? compiled(LIBRARY), into);
      library = into.exports;
    }
    return library;
  };
  if (!write) {
    run(compiled(new Map(PROGRAM_WORDS).get(process.argv[2]) ?? 0));
    return;
  }
  // Made already for this build and this Node, and V8 takes it: an install run again changes nothing.
  if (lengths.every((_, i) => state(i) === 'used')) return;
  // Each program's own warm-up runs what a start on libvirt's or an operator's path compiles (the
  // XML library's, what theirs run of it); at exit, what V8 compiled so far is written, by rename so
  // a start never sees half a file.
  scripts = lengths.map((_, i) => compile(i, undefined));
  process.argv.splice(2); // no program is to read `--write-code-cache [FILE]` as its own arguments
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
  scripts.slice(0, LIBRARY).forEach((script) => run(script));
}
