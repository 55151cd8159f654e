'use strict';
// Node's errno table (util.getSystemErrorMap), loaded at the first failure that names an errno
// rather than at start: on Node 18 a program's first require of node:util also loads its argument
// parser, text codecs and MIME parser, which every start of the hook would pay for an error it
// seldom has (docs/design.md, "What Node 18 loads for the engine"). CommonJS because only
// `require` loads a module synchronously (as core/xmldom.cjs).
let map;
exports.systemErrorMap = () => map ?? (map = require('node:util').getSystemErrorMap());
