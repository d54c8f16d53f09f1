/**
 * Suites that compare timings against an in-process mock: `npm test` runs them after the others,
 * alone (jest.quiet.config.js says why); jest.config.js leaves them out.
 */
module.exports = [
  'tests/integration/history-compare.test.ts',
  'tests/integration/ci-alerts.test.ts',
  'tests/integration/load-models.test.ts',
  'tests/integration/first-request.test.ts',
];
