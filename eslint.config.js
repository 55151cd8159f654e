import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports a layer may not make (type imports included: a type is a dependency too). */
function layer(files, group, message) {
  return { files: [files], rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] } };
}

const NO_PROCESS_EXIT = {
  selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
  message: 'return an exit code and let the entry end the process (exitWith in src/io.ts)',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'build/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', NO_PROCESS_EXIT],
    },
  },
  // The layers (docs/design.md, "Layout"): dependencies point inward, core <- adapters <-
  // usecases <- cli and commands; no command imports another.
  layer('src/core/**', ['../adapters/*', '../usecases/*', '../cli/*', '../commands/*', 'node:*', '!node:util'], 'the core is pure: no I/O, no outer layer'),
  layer('src/adapters/**', ['**/usecases/*', '**/cli/*', '**/commands/*'], 'adapters know the core only'),
  layer('src/usecases/**', ['**/cli/*', '**/commands/*'], 'use cases know the core and the adapters only'),
  {
    files: ['src/commands/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./(?!\\.\\./)', message: 'a command uses its own folder and the layers below, never another command' }] }],
    },
  },
  {
    // A command's declaration is loaded by every run of the CLI, so it may hold only plain data:
    // its work is imported on use (`defineCommand(spec, () => import('./run'))`).
    files: ['src/commands/*/command.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', '../../adapters/*', '../../usecases/*', '../../core/*', './*', '!./run', '!../../core/nova-namespace'], allowTypeImports: true,
              message: 'command declarations import their work lazily, inside run()' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    // The bundle's head (scripts/build.mjs): CommonJS, and `start` is called by the line the build appends.
    files: ['scripts/bundle-loader.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { process: 'readonly', Buffer: 'readonly', require: 'readonly', module: 'readonly', __filename: 'readonly', __dirname: 'readonly', BUILD_ID: 'readonly', XML_LIBRARY: 'readonly', PROGRAM_WORDS: 'readonly', PROGRAM_NAMES: 'readonly' },
    },
    rules: { 'no-unused-vars': ['error', { varsIgnorePattern: '^start$' }] },
  },
);
