/** Orphan checks: failing goes on batch after batch and returns the total; nobody listening, no report read. */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { EventBus } from '../../src/core/domain/events.js'
import { checkOrphans } from '../../src/core/maintenance/orphan-checker.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000
const newJob = newJobBuilder({ kind: 'lost', runAt: 0 })
const params = { now: NOW, staleAfterMs: 10_000, registered: { queues: ['default'], kinds: ['mine'] } }

/** A memory store holding `count` due jobs of a kind nobody registered, counting `findOrphans` calls. */
async function storeWithOrphans(count: number) {
  const store = new MemoryStore()
  await store.insertJobs({ jobs: Array.from({ length: count }, () => newJob()), now: 0 })
  let reads = 0
  const find = store.findOrphans.bind(store)
  store.findOrphans = async (p) => {
    reads++
    return find(p)
  }
  return { store, reads: () => reads }
}

it('fails orphans batch after batch until one comes back short, and returns the total', async () => {
  const { store } = await storeWithOrphans(5)
  const events = new EventBus()
  const discarded: string[] = []
  events.on('discarded', ({ job }) => discarded.push(job.id))

  expect(await checkOrphans(store, events, params, 1_000, 2)).toBe(5)
  expect(discarded).toHaveLength(5)
  expect(store.allJobs().map((j) => j.state)).toEqual(Array(5).fill('failed'))
})

it('reads the orphan report only when someone listens', async () => {
  const { store, reads } = await storeWithOrphans(1)
  const events = new EventBus()
  await checkOrphans(store, events, params, null, 10)
  expect(reads()).toBe(0)

  const orphaned: string[] = []
  events.on('orphaned', ({ kind }) => orphaned.push(kind))
  await checkOrphans(store, events, params, null, 10)
  expect(reads()).toBe(1)
  expect(orphaned).toEqual(['lost'])
})

it('reads the orphan report for a listener of scheduleOrphaned alone', async () => {
  const { store, reads } = await storeWithOrphans(1)
  const events = new EventBus()
  events.on('scheduleOrphaned', () => {})
  await checkOrphans(store, events, params, null, 10)
  expect(reads()).toBe(1)
})
