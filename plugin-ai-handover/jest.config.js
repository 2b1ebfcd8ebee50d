// The components' unit tests, in jsdom (flex-plugin test passes Jest a flag it refuses, so Jest runs directly).
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.js?(x)'],
  moduleFileExtensions: ['js', 'jsx', 'json'],
};
