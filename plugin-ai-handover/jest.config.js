// The components' unit tests, in jsdom (flex-plugin test passes Jest a flag it refuses, so Jest runs directly).
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.js?(x)'],
  moduleFileExtensions: ['js', 'jsx', 'json'],
  // What flex-plugin-scripts' build defines for @twilio/flex-plugin's FlexPlugin.
  globals: Object.fromEntries(
    [
      '__FPB_PLUGIN_UNIQUE_NAME',
      '__FPB_PLUGIN_VERSION',
      '__FPB_FLEX_PLUGIN_SCRIPTS_VERSION',
      '__FPB_FLEX_PLUGIN_VERSION',
      '__FPB_FLEX_UI_VERSION',
      '__FPB_REACT_VERSION',
      '__FPB_REACT_DOM_VERSION',
    ].map((name) => [name, 'test'])
  ),
};
