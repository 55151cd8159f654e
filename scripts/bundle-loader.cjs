// The head of the bundle (scripts/build.mjs writes `<this, minified>start("(function (exports,
// require, module, __filename, __dirname) {<the program>})")`): the
// program travels as a string, so that Node's own loader compiles only this head, and the program
// is compiled here with V8's code cache for it when one was made for this very program on this
// very Node (`node nova-ipmeta.cjs --write-code-cache`, run by the installer). The cache holds the
// bytecode of the functions a start needs; without it V8 compiles them as usual.
//
// The cache file, beside the bundle: a header line `nova-ipmeta code cache BUILD_ID NODE ARCH
// LENGTH`, then V8's data. Another program (BUILD_ID: a hash of the program's text), another Node
// (an upgrade: V8 also refuses data made by another V8 or with other flags) or a short file: not
// used, silently, and the program is compiled as usual. Nothing here ever writes the cache except
// `--write-code-cache`; a start never fails because of it.
'use strict';

function start(program) {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const file = __filename;
  const write = process.argv[2] === '--write-code-cache';
  const cacheFile = (write && process.argv[3]) || `${file}.cache`;
  const header = `nova-ipmeta code cache ${BUILD_ID} ${process.version} ${process.arch} `;
  let cachedData;
  try {
    const bytes = fs.readFileSync(cacheFile);
    const eol = bytes.indexOf(10);
    if (eol > 0 && eol < 200 && bytes.toString('latin1', 0, eol) === header + (bytes.length - eol - 1)) cachedData = bytes.subarray(eol + 1);
  } catch {
    // none, or unreadable: compiled as usual
  }
  // `program` is the CommonJS function wrapper around the program's text (scripts/build.mjs).
  const compile = (data) => new vm.Script(program, { filename: file, ...(data ? { cachedData: data } : {}) });
  let script = compile(cachedData);
  // Made already for this program and this Node, and V8 takes it: an install run again changes nothing.
  if (write && cachedData && !script.cachedDataRejected) return;
  if (write && cachedData) script = compile(undefined);
  if (write) {
    // The program's own warm-up runs what a start on libvirt's path compiles; at exit, what V8
    // compiled so far is written, by rename so a start never sees half a file.
    process.argv.splice(2, process.argv.length - 2, '__warm-up');
    process.on('exit', (code) => {
      if (code !== 0) return;
      const data = script.createCachedData();
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${header}${data.length}\n`, 'latin1'), data]), { mode: 0o644 });
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
  }
  script.runInThisContext()(module.exports, require, module, file, __dirname);
}
