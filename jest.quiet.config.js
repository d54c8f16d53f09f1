/**
 * The suites that judge timing against the built-in mock serving from the same process (an A/A
 * comparison must read "unchanged", a 20 % slower mock "regressed", an open loop "kept up"). Run
 * in parallel with other suites on a 2-core machine, a neighbour's burst stalled that process by
 * 100 ms at p99 (seen: an A/A p99 of 566 then 680 ms), which the tool rightly reads as a change. So
 * `npm test` runs them after the others, one at a time: the suite does not make its own noise.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');
const quietSuites = require('./tests/quiet-suites.js');

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: quietSuites.map((suite) => `<rootDir>/${suite}`),
  maxWorkers: 1,
};
