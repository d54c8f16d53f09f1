/**
 * `npm run test:real-servers`: grym-perf's own tests against a real llama.cpp llama-server
 * (built once by scripts/real-servers/prepare.sh, which the npm script runs first).
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/tests/real-servers'],
  testPathIgnorePatterns: ['/node_modules/'],
  // A test runs whole phases against a real server (seconds each), and a model load can take a second on a busy machine.
  testTimeout: 120_000,
  // One llama-server at a time: on 2 cores a second server (or phase) would skew every timing the tests compare.
  maxWorkers: 1,
};
