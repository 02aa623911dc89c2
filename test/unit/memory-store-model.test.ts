import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { type JobRecord, WAITING_STATES } from '../../src/core/domain/job.js'
import type { ClaimParams, PollStrategy } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

/**
 * Model-based check of the claim index: after random inserts, completions, cancels, deletes and
 * retries, every claim must take exactly what a naive scan of all jobs says it should.
 */

const T0 = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'a', queue: 'q1', runAt: T0 })

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What a claim must return, computed by brute force over all jobs. */
function expectedClaim(
  jobs: readonly JobRecord[],
  params: ClaimParams,
  paused: ReadonlySet<string>,
): string[] {
  const byId = new Map(jobs.map((j) => [j.id, j]))
  const waiting = (j: JobRecord) => WAITING_STATES.includes(j.state)
  const running = new Set(
    jobs.filter((j) => j.state === 'running' && j.groupKey !== null).map((j) => j.groupKey),
  )
  const heads = new Map<string, string>()
  for (const j of jobs)
    if (waiting(j) && j.groupKey !== null && !heads.has(j.groupKey)) heads.set(j.groupKey, j.id)
  const dueBy = params.dueBy ?? (params.now as number)
  const maxId = params.maxId === undefined ? Number.POSITIVE_INFINITY : Number(params.maxId)
  const candidates = jobs.filter(
    (j) =>
      waiting(j) &&
      j.runAt <= dueBy &&
      Number(j.id) <= maxId &&
      params.queues.includes(j.queue) &&
      !paused.has(j.queue) &&
      params.kinds.includes(j.kind) &&
      (j.groupKey === null || (!running.has(j.groupKey) && heads.get(j.groupKey) === j.id)) &&
      j.dependsOn.every((d) => byId.get(d)?.state === undefined || byId.get(d)?.state === 'succeeded'),
  )
  const time = (a: JobRecord, b: JobRecord) => a.runAt - b.runAt || Number(a.id) - Number(b.id)
  candidates.sort(params.strategy === 'time' ? time : (a, b) => a.priority - b.priority || time(a, b))
  const taken: string[] = []
  let used = 0
  for (const j of candidates) {
    if (used + j.weight > params.capacity) break
    used += j.weight
    taken.push(j.id)
  }
  return taken
}

async function run(seed: number, steps: number): Promise<void> {
  const rnd = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T
  const store = new MemoryStore()
  const paused = new Set<string>()
  let now = T0
  for (let step = 0; step < steps; step++) {
    now += Math.floor(rnd() * 20)
    const jobs = store.allJobs()
    const op = rnd()
    if (op < 0.35) {
      const existing = jobs.map((j) => j.id)
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
        newJob({
          kind: pick(['a', 'b']),
          queue: pick(['q1', 'q2']),
          priority: Math.floor(rnd() * 3),
          runAt: now + Math.floor(rnd() * 60) - 30,
          weight: 1 + Math.floor(rnd() * 3),
          groupKey: rnd() < 0.4 ? pick(['g1', 'g2']) : null,
          uniqueKey: rnd() < 0.2 ? pick(['u1', 'u2']) : null,
          dependsOn: existing.length > 0 && rnd() < 0.25 ? [pick(existing)] : [],
        }),
      )
      await store.insertJobs({ jobs: rows, now })
    } else if (op < 0.7) {
      const params: ClaimParams = {
        queues: rnd() < 0.7 ? ['q1', 'q2'] : [pick(['q1', 'q2'])],
        kinds: rnd() < 0.7 ? ['a', 'b'] : [pick(['a', 'b'])],
        capacity: Math.floor(rnd() * 8),
        strategy: pick<PollStrategy>(['priority', 'time']),
        now,
        dueBy: pick([undefined, undefined, undefined, now + 40, Number.POSITIVE_INFINITY]),
        maxId: rnd() < 0.1 && jobs.length > 0 ? pick(jobs).id : undefined,
        workerId: 'w',
      }
      const want = expectedClaim(jobs, params, paused)
      const got = (await store.claimJobs(params)).map((j) => j.id)
      expect(got, `seed ${seed} step ${step}`).toEqual(want)
    } else if (op < 0.88) {
      const active = jobs.filter((j) => j.state === 'running')
      if (active.length === 0) continue
      const id = pick(active).id
      const error = { attempt: 1, at: now, name: 'Error', message: 'x' }
      const completion = pick([
        { id, outcome: 'succeeded' as const },
        { id, outcome: 'succeeded' as const },
        { id, outcome: 'retry' as const, runAt: now + 15, error },
        { id, outcome: 'failed' as const, error },
        { id, outcome: 'snoozed' as const, runAt: now + 5 },
        { id, outcome: 'released' as const },
      ])
      await store.completeJobs({ completions: [completion], now })
    } else if (jobs.length > 0) {
      const filter = { ids: [pick(jobs).id] }
      const action = pick(['cancel', 'delete', 'retry', 'pause'])
      if (action === 'cancel') await store.cancelJobs({ filter, now })
      if (action === 'delete') await store.deleteJobs({ filter })
      if (action === 'retry') await store.retryJobs({ filter, now })
      if (action === 'pause') {
        const queue = pick(['q1', 'q2'])
        const pause = !paused.has(queue)
        if (pause) paused.add(queue)
        else paused.delete(queue)
        await store.setQueuePaused({ queue, paused: pause, now })
      }
    }
    const stats = await store.queueStats()
    const total = stats.reduce((sum, s) => sum + Object.values(s.counts).reduce((a, b) => a + b, 0), 0)
    expect(total).toBe(store.allJobs().length)
  }
}

describe('MemoryStore claim index (model-based)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`claims exactly what a full scan would (seed ${seed})`, async () => {
      await run(seed, 400)
    })
  }
})
