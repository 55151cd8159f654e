'use strict';
// @xmldom/xmldom, loaded at its first use rather than when the core is: a run that parses no
// DOM (find, list and show over plain files, a reconcile whose domains are all remembered)
// spares its start-up. CommonJS because only `require` loads a module synchronously, and the
// parse that first needs it is synchronous. In the bundle, xmldom is a program of its own, which
// the bundle's head compiles, with its part of the code cache, at this `require`
// (scripts/bundle-loader.cjs).
let lib;
exports.xmldom = () => lib ?? (lib = require('@xmldom/xmldom'));
