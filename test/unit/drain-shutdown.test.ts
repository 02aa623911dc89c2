/**
 * Shutdown stopping a drain at its awkward moments, on the memory adapter: during the heartbeat the
 * drain writes between two jobs, while a `start()` is still getting ready, and a handler that throws
 * a `ShutdownAbortError` of its own (a retry like any other, not a job returned by shutdown). The
 * common cases (grace period, abort after it, refusal once shutdown began) are conformance cases
 * (test/conformance/cases/lifecycle.ts).
 */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { ShutdownAbortError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { Clock, TimerHandle } from '../../src/core/ports/clock.js'
import { nextTurn, waitFor } from '../support/wait.js'

const task = defineJob<{ n: number }>({ kind: 'task' })

/** A clock the test moves by hand whose timers never fire (no heartbeat tick while a job runs). */
class StillClock implements Clock {
  t = Date.UTC(2030, 0, 1)
  now(): number {
    return this.t
  }
  setTimeout(): TimerHandle {
    return { cancel() {} }
  }
}

function gate() {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { wait: () => promise, open }
}

for (const graceMs of [10_000, 0]) {
  it(`graceMs ${graceMs}: a shutdown that begins during the heartbeat between two jobs starts no further job`, async () => {
    const clock = new StillClock()
    const queue = createMemoryQueue({ clock, maintenance: { heartbeatIntervalMs: 1000 } })
    const invoked: number[] = []
    queue.register(task, ({ n }) => {
      invoked.push(n)
      if (n === 1) clock.t += 1000 // the drain's beat before the next job is due
    })
    const [, second] = await queue.enqueueMany([1, 2].map((n) => ({ job: task, payload: { n } })))
    const record = queue.store.recordHeartbeat.bind(queue.store)
    let beats = 0
    const held = gate()
    let beatHeld = false
    queue.store.recordHeartbeat = async (p) => {
      if (++beats === 2) {
        beatHeld = true
        await held.wait()
      }
      return record(p)
    }
    let secondAtClose = ''
    const close = queue.store.close.bind(queue.store)
    queue.store.close = async () => {
      const job = await queue.store.getJob({ id: second!.id })
      secondAtClose = `${job?.state}:${job?.attempt}`
      return close()
    }
    const draining = queue.drain()
    await waitFor(() => beatHeld)
    expect(invoked).toEqual([1])
    const stopping = queue.shutdown({ graceMs })
    await nextTurn()
    held.open()
    await stopping
    expect(await draining).toMatchObject({ succeeded: 1, total: 1, stopped: true })
    expect(invoked).toEqual([1])
    expect(secondAtClose).toBe('available:0')
  })
}

it('a shutdown that begins while start() is still getting ready stops a running drain at once', async () => {
  const queue = createMemoryQueue()
  const first = gate()
  const started: number[] = []
  queue.register(task, async ({ n }) => {
    started.push(n)
    if (n === 1) await first.wait()
  })
  await queue.enqueueMany([1, 2, 3].map((n) => ({ job: task, payload: { n } })))
  // start() is slow to get ready (Postgres: store.ready may build the time strategy's index).
  const ready = queue.store.ready.bind(queue.store)
  const readyGate = gate()
  queue.store.ready = async () => {
    await readyGate.wait()
    return ready()
  }
  const starting = queue.start()
  const draining = queue.drain()
  await waitFor(() => started.length === 1)
  const stopping = queue.shutdown({ graceMs: 10_000 })
  await nextTurn()
  first.open()
  // The drain would go on to jobs 2 and 3 here if it waited for start() to stop.
  for (let turn = 0; turn < 5; turn++) await nextTurn()
  readyGate.open()
  await starting
  await stopping
  expect(await draining).toMatchObject({ succeeded: 1, total: 1, stopped: true })
  expect(started).toEqual([1])
})

it('a handler that throws a ShutdownAbortError of its own, with no shutdown, counts as a retry', async () => {
  const queue = createMemoryQueue()
  queue.register(task, () => {
    throw new ShutdownAbortError()
  })
  const r = await queue.enqueue(task, { n: 1 })
  expect(await queue.drain()).toMatchObject({ retried: 1, total: 1, stopped: false })
  expect(await queue.getJob(r.id)).toMatchObject({ state: 'retryable', attempt: 1 })
})
