// ESLint's flat configuration: the recommended rules on the deployed JavaScript (functions/, assets/) and
// on its Node unit tests (tests/), all CommonJS modules run by Node.
'use strict';

const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  // Only the project's own JavaScript: not the Python tooling's virtualenv, nor the benchmark's output.
  { ignores: ['.venv/', 'bench/', 'py/'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    // The globals the Functions runtime gives a function. The assets get none of them: the helpers stay
    // pure and load in plain Node, and the handoff is handed `Twilio` by the function.
    files: ['functions/**/*.js'],
    languageOptions: { globals: { Runtime: 'readonly', Twilio: 'readonly' } },
  },
];
