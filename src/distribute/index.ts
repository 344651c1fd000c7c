/** Running a stage as one shard of many (Slurm job arrays, Kubernetes Indexed Jobs): see docs/cluster.md. */
export { fnv1a64, fmix64, idHash64, shardOf, partition, MAX_SHARDS } from './partition.js';
export { parseShard, resolveShard, inShard, shardTag, ShardError, type Shard, type ShardSource } from './shard.js';
export { logFileFor, prepareLogFile, stageLogFiles, readMergedJsonl, readStageStates, shardOfLogName, logsDir, type LogStage } from './logs.js';
