// Rule-based lint of the JavaScript and TypeScript sources; the formatter is Prettier
// (.prettierrc.json). `npm run lint` runs both, and `npm test` runs it before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The Node globals the plain .mjs scripts use (TypeScript files get theirs from @types/node). */
const nodeGlobals = Object.fromEntries(['process', 'console', 'setTimeout', 'clearTimeout', 'Buffer', 'URL'].map((g) => [g, 'readonly']));

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'rtl-out/**', 'scratch/**', 'models/**', 'wasm/**', '**/*.generated.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: nodeGlobals } },
  {
    // Tests read fxpq's JSON output and hand-build hostile .fxp.json files field by field: that is
    // untyped data on purpose, so `any` is allowed there and nowhere else.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
