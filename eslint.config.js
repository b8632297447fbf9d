// ESLint (flat config): typescript-eslint's strict-type-checked everywhere, React's hooks rules in client/.
// `npm run lint` allows no warnings. Every rule turned off or down here says why in one line; the README's
// design notes list them.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.compiled/',
      'client/dist/',
      'server/db/generated/',
      'client/src/gql/',
      'schemas/types/',
      'test-results/',
      '.data/',
      'examples/sample-repo/',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Files no tsconfig includes: the .mjs scripts and the web app's Vite config.
          allowDefaultProject: ['scripts/*.mjs', 'server/*/*.mjs', 'server/*/*/*.mjs', 'client/vite.config.ts', 'eslint.config.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    rules: {
      // A number in a message prints one way; strict's ban on it buys nothing but String(n) noise.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `() => void-call` shorthand in callbacks reads as what it is; the rule still flags voids used as values.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Without noUncheckedIndexedAccess it calls every needed check of rows[0], match groups and map lookups unnecessary.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // For the same reason `!` is how code marks a lookup it has just checked (Map.get after has, regex groups).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Taking a prop out of a rest spread (`{ icon, ...button }`) is how a component keeps it off a DOM element.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['client/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Tests read GraphQL/HTTP JSON answers (untyped by nature) and assert on their shape; the assertion
    // is the check, so `any` and `!` after an expectation are allowed there, not in production code.
    files: ['**/*.test.ts', 'server/test/**/*.ts', 'client/e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-plus-operands': ['error', { allowAny: true }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowAny: true }],
    },
  },
  {
    // @kubernetes/client-node's models are plain data classes (no private state, no methods); the
    // client serializes object literals, which is how its own examples build them.
    files: ['server/engine/executors/kubernetes*.ts', 'server/test/fake-kube-api.ts'],
    rules: { '@typescript-eslint/no-unsafe-class-instance-assignment': 'off' },
  },
  {
    // Plain JavaScript has no types to check against.
    files: ['**/*.{js,mjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
);
