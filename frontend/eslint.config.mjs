// ESLint flat config of the sidebar: ESLint's and typescript-eslint's recommended rules,
// and eslint-plugin-react's for the JSX (React 18, the new JSX transform not used: every
// .tsx imports React). No Prettier in this project, so no formatting rules are turned off.
import js from '@eslint/js';
import react from 'eslint-plugin-react';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', '../backend_lib/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.tsx'],
    ...react.configs.flat.recommended,
    settings: { react: { version: '18.3' } }
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      // `_name` marks what is unused on purpose (a destructured-away field, an ignored arg).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }
      ]
    }
  }
);
