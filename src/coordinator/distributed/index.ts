export { addLiveCriteria } from './add-live-criteria';
export { startControlWorker } from './control-worker';
export { submitRun } from './submit-run';
export { WATCH_REDIS_DOWN_TIMEOUT_MS, describeRunProgress, fetchPhaseResults, fetchRunReport, watchRun } from './watch-run';
