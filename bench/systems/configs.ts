/**
 * The configurations each system is measured with. Every worker runs concurrency 10 (the W3
 * definition); `defaults` leaves everything else at the library's defaults, `best` is the fastest
 * drain configuration its own documentation describes. Logging is silenced for every system.
 */
import { AUTO_PREFETCH } from '../../src/core/defaults.js'
import type { QueueSystem, SystemConfig } from '../lib/types.js'

/** Worker concurrency of every drain and latency run. */
export const CONCURRENCY = 10

/** Conveyor's `prefetch` in its tuned configuration. */
export const CONVEYOR_TUNED_PREFETCH = 400

/**
 * pg-boss's fetch batch in its best configuration. Its docs give batchSize and burstWhenBatchFull
 * as the throughput settings but no size; on this machine (3 interleaved W3 rounds each, 10
 * workers) 500 drained faster (median ~13,500 jobs/s) than 100 (~10,200) and as fast as 1,000,
 * while 2 or 4 workers with batches of 100-250 were slower.
 */
export const PG_BOSS_BEST_BATCH = 500

/**
 * graphile-worker's local queue in its best configuration. Its performance page uses 500 and says
 * a much higher number may suit very fast tasks; here (3 W3 rounds each) 1,000 drained fastest
 * (median ~20,900 jobs/s) against 500 (~14,300) and 100 (~7,500).
 */
export const GRAPHILE_BEST_LOCAL_QUEUE = 1000

/** The W3 config of Conveyor's runtime on candidate G's claim (an experiment, docs/storage.md). */
export const SESSION_LOCK_EXPERIMENT = 'session-lock'

/** The experiments `BENCH_EXPERIMENTS` (comma-separated) adds to the configurations. */
function experiments(): string[] {
  return (process.env.BENCH_EXPERIMENTS ?? '').split(',').map((s) => s.trim())
}

/** Drain (W3, W5) configurations per system. */
export const DRAIN_CONFIGS: Record<QueueSystem, readonly SystemConfig[]> = {
  conveyor: [
    { name: 'defaults', description: 'queues: { default: { concurrency: 10 } }; everything else default' },
    {
      name: 'tuned',
      description: `defaults with a fixed prefetch: ${CONVEYOR_TUNED_PREFETCH} (the default is adaptive, ${AUTO_PREFETCH.base} to ${AUTO_PREFETCH.max})`,
    },
    ...(experiments().includes(SESSION_LOCK_EXPERIMENT)
      ? [
          {
            name: SESSION_LOCK_EXPERIMENT,
            description:
              "an experiment (BENCH_EXPERIMENTS=session-lock): defaults on candidate G's claim, session advisory locks and no job-row write (bench/systems/conveyor-session-lock.ts)",
          },
        ]
      : []),
  ],
  'pg-boss': [
    {
      name: 'defaults',
      description: 'work(queue, { localConcurrency: 10 }): batchSize 1, pollingIntervalSeconds 2',
    },
    {
      name: 'best',
      description: `work(queue, { localConcurrency: 10, batchSize: ${PG_BOSS_BEST_BATCH}, burstWhenBatchFull: true })`,
    },
  ],
  'graphile-worker': [
    { name: 'defaults', description: 'run({ concurrency: 10 }); no local queue, unbatched completion' },
    {
      name: 'best',
      description: `concurrency 10, maxPoolSize 11, preset.worker: { localQueue: { size: ${GRAPHILE_BEST_LOCAL_QUEUE} }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }`,
    },
  ],
  // BullMQ's docs name no throughput setting besides concurrency (batches are BullMQ Pro only), and
  // the auto-removal they recommend for production (removeOnComplete) drained slower here, so its
  // defaults are its best configuration.
  bullmq: [
    { name: 'defaults', description: 'new Worker(queue, fn, { concurrency: 10 }); completed jobs kept' },
  ],
}

/** Pickup-latency (W4) configurations per system. */
export const LATENCY_CONFIGS: Record<QueueSystem, readonly SystemConfig[]> = {
  conveyor: [{ name: 'defaults', description: 'defaults (LISTEN/NOTIFY wake-up built in)' }],
  'pg-boss': [
    { name: 'defaults', description: 'localConcurrency 10, polling every 2 s (no LISTEN/NOTIFY)' },
    {
      name: 'notify',
      description: 'useListenNotify: true and queue { notify: true }; localConcurrency 10',
    },
  ],
  'graphile-worker': [{ name: 'defaults', description: 'concurrency 10 (LISTEN/NOTIFY by default)' }],
  bullmq: [{ name: 'defaults', description: 'concurrency 10 (blocking BZPOPMIN wake-up)' }],
}

/** W6 configurations: the drain configuration each system is compared on, empty vs retained. */
export const RETAINED_CONFIGS: Partial<Record<QueueSystem, readonly SystemConfig[]>> = {
  conveyor: [DRAIN_CONFIGS.conveyor[0]!],
  'pg-boss': [DRAIN_CONFIGS['pg-boss'][1]!],
}

/** Why a system has no W6 figure. */
export const RETAINED_SKIPS: Partial<Record<QueueSystem, string>> = {
  'graphile-worker':
    'graphile-worker deletes a job row as soon as the job succeeds; it keeps no finished jobs, so a table of retained finished jobs does not arise',
  bullmq: 'Redis-based: W6 is about a PostgreSQL jobs table holding finished rows',
}
