// What the bundle is made of and where its files lie, apart from scripts/build.mjs, which makes
// it (and loads esbuild): the build, the benches and the tests import this. The head
// (scripts/bundle-loader.cjs) can import nothing: it gets PROGRAMS through the build's defines
// and finds the programs file beside itself the same way as programsFileOf.

/**
 * The programs the head runs, by the command word they serve (argv's first word); the first
 * serves every other start. Each is bundled from its entry without the XML library, which
 * follows them as the last program (LIBRARY_PROGRAM). `name` is what `doctor` calls each (the
 * head hands the names on).
 */
export const PROGRAMS = [
  { name: 'whole program', entry: 'src/bin.ts', words: [] },
  // libvirt waits on it at every incoming migration and restore.
  { name: 'hook engine', entry: 'src/hook-bin.ts', words: ['hook'] },
  // The commands that read files and print XML: the CLI with those two alone (src/cli/offline-commands.ts).
  { name: 'offline commands', entry: 'src/offline-bin.ts', words: ['render', 'inject'] },
  // The operator's read commands (src/cli/read-commands.ts).
  { name: 'read commands', entry: 'src/read-bin.ts', words: ['list', 'find', 'history', 'show'] },
];

/** The last program: the XML library, which none of PROGRAMS holds (the head knows its module as XML_LIBRARY). */
export const LIBRARY_PROGRAM = { name: 'XML library', module: '@xmldom/xmldom' };

/** The programs file beside a bundle's head: what a copy of the bundle must take along. */
export function programsFileOf(bundle) {
  return bundle.replace(/\.cjs$/, '.programs');
}
