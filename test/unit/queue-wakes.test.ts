/**
 * After a completion batch is written, the queue wakes its workers only when the store does not
 * announce the jobs completions free (`capabilities.announcesFreedJobs`): a store that does wakes
 * them itself, through `onJobsAvailable`, for the jobs a completion lets run (a retry due now, a
 * dependant, a group's next job), so a wake after every batch would only add empty claims.
 */
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { createQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { ClaimParams } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'

const job = defineJob<{ n: number }>({ kind: 'wake-test' })

/** A memory store that counts claims and says what `announces` says. */
function countingStore(announces: boolean) {
  const store = new MemoryStore()
  Object.defineProperty(store, 'capabilities', {
    value: { ...store.capabilities, announcesFreedJobs: announces },
  })
  let claims = 0
  const claimJobs = store.claimJobs.bind(store)
  store.claimJobs = (params: ClaimParams) => {
    claims++
    return claimJobs(params)
  }
  return { store, claims: () => claims }
}

/** Runs `n` jobs enqueued one after another; returns the claims made after the first started. */
async function claimsFor(announces: boolean, n: number): Promise<number> {
  const { store, claims } = countingStore(announces)
  const queue = createQueue(store, { clock: new ManualClock() })
  const done: number[] = []
  queue.register(job, async ({ n }) => {
    done.push(n)
  })
  await queue.start()
  try {
    let before = 0
    for (let i = 0; i < n; i++) {
      await queue.enqueue(job, { n: i })
      await waitFor(() => done.length === i + 1, { message: `job ${i}` })
      await waitFor(async () => (await store.getJob({ id: String(i + 1) }))?.state === 'succeeded', {
        message: `job ${i} written`,
      })
      if (i === 0) before = claims()
    }
    // Let any wake the last completion caused turn into its claim.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    return claims() - before
  } finally {
    await queue.shutdown()
  }
}

describe('wakes after completions', () => {
  it('a store that announces freed jobs gets no claim per completion batch; one that does not, does', async () => {
    const quiet = await claimsFor(true, 5)
    const woken = await claimsFor(false, 5)
    // Each of the 4 later jobs: one claim for its enqueue's wake. Without announcements, more after
    // the completions (one per batch, unless it folds into a claim already in flight).
    expect(quiet).toBe(4)
    expect(woken).toBeGreaterThan(quiet)
  })
})
