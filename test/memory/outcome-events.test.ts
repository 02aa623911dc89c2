/**
 * Outcome events follow the completion's write on the memory adapter too: a worker's `succeeded`
 * is not emitted while the store's write is still pending, and not at all for a write that fails
 * (given up, its job left running for the rescue).
 */
import { afterEach, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { type CoreQueue, createQueue } from '../../src/core/create-queue.js'
import { CompletionNotWrittenError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { CompleteJobsResult, Completion } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'

const task = defineJob<{ n: number }>({ kind: 'task' })

/** A memory store whose writes of completions wait for `open()`, or fail while `failing`. */
class FaultyStore extends MemoryStore {
  failing = false
  writes = 0
  #open: Promise<void> = Promise.resolve()
  #release: () => void = () => {}

  hold(): void {
    this.#open = new Promise((resolve) => {
      this.#release = resolve
    })
  }

  open(): void {
    this.#release()
  }

  override async completeJobs(params: {
    completions: readonly Completion[]
    now?: number
  }): Promise<CompleteJobsResult> {
    this.writes++
    if (this.failing) throw new Error('the disk is full')
    await this.#open
    return super.completeJobs(params)
  }
}

const opened: { store: FaultyStore; queue: CoreQueue }[] = []
afterEach(async () => {
  for (const { store, queue } of opened.splice(0)) {
    store.open()
    await queue.shutdown({ graceMs: 0 })
  }
})

function setup(): { store: FaultyStore; queue: CoreQueue; seen: string[]; errors: unknown[] } {
  const clock = new ManualClock(Date.UTC(2030, 0, 1))
  const store = new FaultyStore({ clock })
  const queue = createQueue(store, { clock, queues: { default: { concurrency: 1 } } })
  opened.push({ store, queue })
  queue.register(task, () => undefined)
  const seen: string[] = []
  for (const name of ['succeeded', 'failed', 'retried', 'discarded', 'cancelled'] as const)
    queue.on(name, () => seen.push(name))
  const errors: unknown[] = []
  queue.on('error', ({ error }) => errors.push(error))
  return { store, queue, seen, errors }
}

it('emits succeeded only once the write is done', async () => {
  const { store, queue, seen } = setup()
  store.hold()
  const { id } = await queue.enqueue(task, { n: 1 })
  await queue.start()
  await waitFor(() => store.writes === 1, { message: 'the completion write to start' })
  expect(seen).toEqual([])
  expect((await queue.getJob(id))?.state).toBe('running')
  store.open()
  await waitFor(() => seen.length > 0, { message: 'the succeeded event' })
  expect(seen).toEqual(['succeeded'])
  expect((await queue.getJob(id))?.state).toBe('succeeded')
})

it('emits no outcome event for a write that fails; the job stays running', async () => {
  const { store, queue, seen, errors } = setup()
  store.failing = true
  const { id } = await queue.enqueue(task, { n: 1 })
  await queue.start()
  await waitFor(() => errors.some((e) => e instanceof CompletionNotWrittenError), {
    message: 'the completer to give the completion up',
  })
  await queue.shutdown({ graceMs: 0 })
  expect(seen).toEqual([])
  expect((await queue.store.getJob({ id }))?.state).toBe('running')
})
