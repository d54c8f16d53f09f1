/**
 * FOR TESTS ONLY: loaded with `NODE_OPTIONS=--require <this file>`, writes the process's own CPU time
 * (user and system, microseconds, all threads) as JSON to GRYM_TEST_CPU_FILE when it exits, so that a
 * test can measure what a short-lived CLI spent without sampling /proc before it is gone.
 */
'use strict';
const { writeFileSync } = require('node:fs');
const file = process.env.GRYM_TEST_CPU_FILE;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
