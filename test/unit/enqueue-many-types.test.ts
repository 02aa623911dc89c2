/**
 * `enqueueMany` checks each item's payload against its own definition at compile time. The
 * `@ts-expect-error` lines are the test: `npm test` typechecks this file, and tsc fails with
 * "Unused '@ts-expect-error' directive" if a wrong payload ever compiles again.
 */
import { defineJob, type EnqueueManyItem } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { describe, expect, it } from 'vitest'

const count = defineJob<{ n: number }>({ kind: 'count' })
const email = defineJob<{ to: string }>({ kind: 'email' })

describe('enqueueMany payload types', () => {
  it('accepts items whose payloads match their own definitions, of mixed kinds', async () => {
    const queue = createMemoryQueue()
    await queue.enqueueMany([
      { job: count, payload: { n: 1 } },
      { job: email, payload: { to: 'a@b.c' }, options: { priority: 1 } },
    ])
    const built: EnqueueManyItem<{ n: number }>[] = [1, 2, 3].map((n) => ({ job: count, payload: { n } }))
    await queue.enqueueMany(built)
    await queue.enqueueMany([1, 2].map((n) => ({ job: count, payload: { n } })))
    queue.assert.queuedTotal(7)
  })

  it('refuses at compile time a payload of the wrong type (and at run time nothing is lost)', async () => {
    const queue = createMemoryQueue()
    const wrong = async () => {
      await queue.enqueueMany([
        // @ts-expect-error n must be a number
        { job: count, payload: { n: 'x' } },
      ])
      await queue.enqueueMany([
        { job: count, payload: { n: 1 } },
        // @ts-expect-error the payload of `email` given to `count`'s item is refused, even beside a good item
        { job: count, payload: { to: 'a@b.c' } },
      ])
      await queue.enqueueMany([
        // @ts-expect-error a missing field is refused
        { job: email, payload: {} },
      ])
    }
    expect(typeof wrong).toBe('function') // type-level only: not run, so nothing is stored
    queue.assert.empty()
  })
})
