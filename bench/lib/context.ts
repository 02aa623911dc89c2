/**
 * What every workload gets: options, the recorder, fresh targets, and `measure`, which runs one
 * system/config/round in isolation with a timeout and records a failure (with its reason) instead
 * of letting one stuck or broken system end the whole benchmark.
 */
import type { BenchOptions } from './args.js'
import type { MetricSpec, Recorder } from './recorder.js'
import { type DatabaseFactory, flushRedis } from './resources.js'
import { withTimeout } from './stats.js'
import type { Direction, RedisLocation, Target, WorkloadId } from './types.js'

/** Shared state of one harness run. */
export interface BenchContext {
  readonly options: BenchOptions
  readonly recorder: Recorder
  readonly databases: DatabaseFactory
  /** The Redis db to use, or null when Redis is not available. */
  readonly redis: RedisLocation | null
  /** The compiled worker child script. */
  readonly workerScript: string
  log(message: string): void
}

/** Cleanups registered during one measurement, run in reverse order whatever happens. */
export class Scope {
  readonly #cleanups: { what: string; fn: () => Promise<void> | void }[] = []

  /** Registers a cleanup. */
  defer(what: string, fn: () => Promise<void> | void): void {
    this.#cleanups.push({ what, fn })
  }

  /** Runs every cleanup (each bounded in time); returns the problems met. */
  async close(): Promise<string[]> {
    const problems: string[] = []
    while (this.#cleanups.length) {
      const { what, fn } = this.#cleanups.pop()!
      const t0 = performance.now()
      try {
        await withTimeout(Promise.resolve().then(fn), 30_000, what)
        const ms = performance.now() - t0
        if (ms > 5000) problems.push(`${what} took ${Math.round(ms / 1000)} s`)
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`)
      }
    }
    return problems
  }
}

/** One measured value of a run. */
export interface Sample {
  readonly metric: string
  readonly unit: string
  readonly better: Direction
  readonly value: number
  readonly note?: string
}

/** Identifies one run. */
export interface RunKey {
  readonly workload: WorkloadId
  readonly system: string
  readonly config: string
  readonly round: number
  readonly metrics: readonly MetricSpec[]
}

/** Runs `fn` once with a timeout, records its samples or its failure, and always cleans up. */
export async function measure(
  ctx: BenchContext,
  key: RunKey,
  timeoutMs: number,
  fn: (scope: Scope) => Promise<Sample[]>,
): Promise<Sample[] | null> {
  const scope = new Scope()
  const label = `${key.workload} ${key.system}/${key.config} round ${key.round + 1}`
  const started = performance.now()
  try {
    const samples = await withTimeout(fn(scope), timeoutMs, label)
    for (const s of samples) {
      ctx.recorder.add({ workload: key.workload, system: key.system, config: key.config, ...s }, key.round)
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    ctx.log(
      `${label}: ${samples.map((s) => `${s.metric} ${format(s.value)} ${s.unit}`).join(', ')} (${seconds} s)`,
    )
    return samples
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!.slice(0, 500)
    ctx.recorder.fail(key, key.round, reason)
    ctx.log(`${label}: FAILED: ${reason}`)
    return null
  } finally {
    const problems = await scope.close()
    for (const p of problems) ctx.log(`${label}: cleanup problem: ${p}`)
  }
}

/** A fresh target for one run of `system`: a new database, or the flushed Redis db. */
export async function freshTarget(
  ctx: BenchContext,
  scope: Scope,
  system: string,
  backend: 'postgres' | 'redis',
): Promise<Target> {
  const queueName = 'bench'
  if (backend === 'redis') {
    const redis = ctx.redis
    if (!redis) throw new Error('Redis is not available')
    await flushRedis(redis)
    scope.defer('flush Redis', () => flushRedis(redis))
    return { redis, queueName }
  }
  const db = await ctx.databases.create(system)
  scope.defer(`drop database ${db.name}`, () => ctx.databases.drop(db.name))
  return { databaseUrl: db.url, queueName }
}

/** Scales a base job count, keeping at least `min`. */
export function scaled(ctx: BenchContext, base: number, min: number): number {
  return Math.max(min, Math.round(base * ctx.options.scale))
}

function format(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2)
}
