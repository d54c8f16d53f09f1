// The BullMQ shard worker (`./queue/shard-worker`) is loaded only by the commands that use it.
export { createLocalExecutor } from './local-executor';
