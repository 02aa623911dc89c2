/**
 * The benchmark harness: `npm run bench -- [--rounds N] [--only W1,W3] [--systems a,b] [--scale F]`.
 * Runs each selected workload for Conveyor and its peers, interleaved round by round on fresh
 * databases, then writes `bench/results/latest.json` and `BENCHMARKS.md`. Every database and worker
 * process it creates is removed on any exit path, and each run has a timeout.
 */
import os from 'node:os'
import { parseArgs } from './lib/args.js'
import { buildWorker, removeWorkerBuild } from './lib/build-worker.js'
import type { BenchContext } from './lib/context.js'
import { evaluateGoals } from './lib/goals.js'
import { collectMachineInfo } from './lib/machine.js'
import { Recorder } from './lib/recorder.js'
import { type BenchReport, writeJson, writeMarkdown } from './lib/report.js'
import { checkPostgres, checkRedis, DatabaseFactory, killChildren } from './lib/resources.js'
import type { QueueSystem, RedisLocation } from './lib/types.js'
import { DRAIN_CONFIGS, LATENCY_CONFIGS, RETAINED_CONFIGS, RETAINED_SKIPS } from './systems/configs.js'
import { runAdapterFloor } from './workloads/adapter-floor.js'
import { runCandidateFloors, selectedCandidates } from './workloads/candidate-floor.js'
import { runDrain, runRetained } from './workloads/drain.js'
import { runEnqueue } from './workloads/enqueue.js'
import { runLatency } from './workloads/latency.js'
import { runMemory } from './workloads/memory.js'
import { runRawPostgres } from './workloads/raw-postgres.js'

function log(message: string): void {
  const time = new Date().toISOString().slice(11, 19)
  process.stderr.write(`[bench ${time}] ${message}\n`)
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseArgs>
  try {
    options = parseArgs(process.argv.slice(2))
    selectedCandidates(options.candidates)
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  const started = performance.now()
  const pgProblem = await checkPostgres(options.postgresUrl)
  if (pgProblem) {
    log(pgProblem)
    return 3
  }
  const redisLocation: RedisLocation = {
    host: options.redisHost,
    port: options.redisPort,
    db: options.redisDb,
  }
  const redisProblem = options.systems.includes('bullmq')
    ? await checkRedis(redisLocation)
    : 'BullMQ not selected'
  if (redisProblem && options.systems.includes('bullmq')) log(`${redisProblem}: BullMQ is skipped`)
  const redis = redisProblem ? null : redisLocation

  const databases = new DatabaseFactory(options.postgresUrl)
  let cleaning: Promise<void> | null = null
  const cleanup = () => {
    cleaning ??= (async () => {
      killChildren()
      await databases.dropAll()
      await removeWorkerBuild()
    })()
    return cleaning
  }
  process.on('exit', killChildren)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  // A library's stray background error must not end a long run: log it and carry on.
  process.on('uncaughtException', (error) => log(`uncaught: ${error.stack ?? error.message}`))
  process.on('unhandledRejection', (error) => log(`unhandled rejection: ${String(error)}`))

  const recorder = new Recorder()
  try {
    const stale = await databases.dropStale()
    if (stale.length) log(`dropped ${stale.length} databases left by earlier runs`)
    const workerScript = await buildWorker()
    const ctx: BenchContext = { options, recorder, databases, redis, workerScript, log }
    const machine = await collectMachineInfo(options.postgresUrl, redis)
    log(
      `${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis ?? '-'}; ` +
        `rounds ${options.rounds}, scale ${options.scale}, workloads ${options.workloads.join(',')}`,
    )
    const systems = options.systems.filter((s) => s !== 'bullmq' || redis)
    if (!redis && options.systems.includes('bullmq')) {
      for (const workload of ['W1', 'W2', 'W3', 'W4', 'W5'] as const) {
        recorder.skip({ workload, system: 'bullmq', reason: redisProblem ?? 'Redis not available' })
      }
    }
    const has = (w: string) => options.workloads.includes(w as never)
    const rounds = Array.from({ length: options.rounds }, (_, r) => r)

    if (has('W0')) {
      for (const r of rounds) {
        await runRawPostgres(ctx, r)
        // Conveyor's own SQL with no worker, right after its raw twin: the ceilings of the goals.
        await runAdapterFloor(ctx, r)
        // The storage candidates of issue 19, each design's statements with no worker.
        await runCandidateFloors(ctx, r)
      }
    }
    if (has('W1')) for (const r of rounds) for (const s of systems) await runEnqueue(ctx, s, r, false)
    if (has('W2')) for (const r of rounds) for (const s of systems) await runEnqueue(ctx, s, r, true)
    if (has('W3') || has('W5')) {
      const which = { throughput: has('W3'), rss: has('W5') }
      for (const r of rounds) {
        for (const s of systems) for (const c of DRAIN_CONFIGS[s]) await runDrain(ctx, s, c.name, r, which)
      }
    }
    if (has('W4')) {
      for (const r of rounds)
        for (const s of systems) for (const c of LATENCY_CONFIGS[s]) await runLatency(ctx, s, c.name, r)
    }
    if (has('W6')) {
      for (const s of options.systems) {
        const reason = RETAINED_SKIPS[s]
        if (reason) recorder.skip({ workload: 'W6', system: s, reason })
      }
      for (const r of rounds) {
        for (const s of systems)
          for (const c of RETAINED_CONFIGS[s] ?? []) await runRetained(ctx, s, c.name, r)
      }
    }
    if (has('W7')) for (const r of rounds) await runMemory(ctx, r)

    const report: BenchReport = {
      generatedAt: machine.date,
      machine,
      options: {
        rounds: options.rounds,
        scale: options.scale,
        quick: options.quick,
        workloads: options.workloads,
        systems: options.systems,
      },
      configs: {
        'W3/W5 drain': pick(DRAIN_CONFIGS, systems),
        'W4 latency': pick(LATENCY_CONFIGS, systems),
        'W6 retained rows': pick(RETAINED_CONFIGS, systems),
      },
      results: recorder.rows(),
      ratio: recorder.ratios(),
      goals: evaluateGoals(recorder),
      skipped: recorder.skips(),
      elapsedSeconds: Math.round((performance.now() - started) / 1000),
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    }
    await writeJson(options.out, report)
    log(`wrote ${options.out}`)
    if (options.markdown) {
      await writeMarkdown(options.markdown, report, options)
      log(`wrote ${options.markdown}`)
    }
    return 0
  } finally {
    await cleanup()
  }
}

function pick<T>(
  bySystem: Partial<Record<QueueSystem, T>>,
  systems: readonly QueueSystem[],
): Record<string, T> {
  const out: Record<string, T> = {}
  for (const s of systems) if (bySystem[s]) out[s] = bySystem[s]!
  return out
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`harness error: ${(error as Error).stack ?? String(error)}`)
    killChildren()
    process.exit(1)
  },
)
