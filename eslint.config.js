// ESLint's flat configuration: the recommended rules on the deployed JavaScript (functions/, assets/) and
// on its Node unit tests (tests/), all CommonJS modules run by Node; and on the Flex plugin's sources
// (plugin-ai-handover/src: ES modules with JSX, run in the agent's browser).
'use strict';

const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  // Only the project's own JavaScript: not the Python tooling's virtualenv, nor the benchmark's output.
  // The plugin's build output and its own node_modules neither.
  { ignores: ['.venv/', '.cache/', 'bench/', 'py/', 'plugin-ai-handover/build/'] },
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
  {
    files: ['plugin-ai-handover/src/**/*.{js,jsx}'],
    languageOptions: {
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
      // `process.env.FLEX_APP_*`: replaced at build by flex-plugin-scripts, as Flex plugins read their configuration.
      globals: { ...globals.browser, process: 'readonly' },
    },
    // React is in scope for the JSX the classic transform turns into React.createElement.
    rules: { 'no-unused-vars': ['error', { varsIgnorePattern: '^React$' }] },
  },
  {
    files: ['plugin-ai-handover/src/**/__tests__/**', 'plugin-ai-handover/src/test-support/**'],
    languageOptions: { globals: { ...globals.jest, ...globals.node } },
  },
  {
    // The agent view's page script (the plugin's harness), and the browser test's driver, whose functions run in the page.
    files: ['tests/plugin_ai_handover/*.js', 'plugin-ai-handover/agent-view/*.js'],
    languageOptions: { globals: { ...globals.browser, React: 'readonly', ReactDOM: 'readonly' } },
  },
];
