export { createLocalExecutor } from './local-executor';
export { startShardWorker, type ShardWorker, type ShardWorkerOptions } from './queue/shard-worker';
export { runShard } from './run-shard';
export { createWorkerPool, warmWorkerPool } from './worker-pool';
