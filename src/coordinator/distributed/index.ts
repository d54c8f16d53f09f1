export { startControlWorker, type ControlWorker, type ControlWorkerOptions } from './control-worker';
export { buildRunFlow, submitRun, type SubmitRunOptions } from './submit-run';
export { fetchRunReport, watchRun, type RunProgress, type WatchRunOptions } from './watch-run';
