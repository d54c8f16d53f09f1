const quietSuites = require('./tests/quiet-suites.js');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // The quiet suites run after the others, alone: jest.quiet.config.js.
  testPathIgnorePatterns: ['/node_modules/', '/tests/real-servers/', ...quietSuites.map((suite) => `/${suite}$`)],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  // Lazy imports name the compiled file (`./x.js`); under jest they resolve to the TypeScript source.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Integration tests start real servers, threads and processes: a 2-core machine needs the room.
  testTimeout: 30_000,
  maxWorkers: 2,
};
