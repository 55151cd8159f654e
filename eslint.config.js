import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'return an exit code and let the entry set process.exitCode',
        },
      ],
    },
  },
  {
    // A command's declaration is loaded by every run of the CLI, so it may hold only plain data:
    // its work is imported on use (`run: async (...) => (await import('./run')).run(...)`).
    files: ['src/commands/*/command.ts', 'src/commands/cache/commands.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', '../../adapters/*', '../../reconcile/*', '../../watch/*', '../../core/*', './*', '!./run', '!../../core/nova-namespace'], allowTypeImports: true,
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
);
