export { startControlWorker } from './control-worker';
export { followRunCriteria } from './follow-run-criteria';
export { submitRun } from './submit-run';
export { WATCH_REDIS_DOWN_TIMEOUT_MS, describeRunProgress, fetchPhaseResults, fetchRunReport, watchRun } from './watch-run';
