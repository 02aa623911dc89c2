/**
 * A timeout is a failed attempt, always: a handler that returns after its `timeoutMs` fails the
 * attempt with `JobTimeoutError`, even when its timer could not fire because the handler blocked the
 * event loop (CPU-bound code), in every mode: a plain attempt, `performJob`, `drain` and a worker.
 * The blocked event loop is modelled by a clock whose time moves while its timers cannot fire, and
 * checked once with a real busy loop; no test asserts a duration.
 */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { DEFAULT_BACKOFF } from '../../src/core/domain/backoff.js'
import { JobTimeoutError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { type Clock, createSystemClock } from '../../src/core/ports/clock.js'
import { silentLogger } from '../../src/core/ports/logger.js'
import type { JobHandler } from '../../src/core/ports/queue.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import { runAttempt } from '../../src/core/runtime/executor.js'
import { newJobBuilder } from '../support/new-job.js'
import { waitFor } from '../support/wait.js'

/** A clock whose timers never fire on their own, like timers behind a blocked event loop. */
class BlockedClock implements Clock {
  now_ = 1000
  now(): number {
    return this.now_
  }
  setTimeout(): { cancel(): void } {
    return { cancel() {} }
  }
}

const job = (timeoutMs: number, maxAttempts = 3) => ({
  ...newJobRecord('7', newJobBuilder({ timeoutMs, maxAttempts })(), 'running', 1000),
  attempt: 1,
})

function attempt(clock: Clock, handler: JobHandler<unknown>, timeoutMs = 100, maxAttempts = 3) {
  const deps = { clock, random: () => 0.5, logger: silentLogger, defaultBackoff: DEFAULT_BACKOFF }
  const abort = new AbortHandle()
  return {
    abort,
    result: runAttempt(deps, {
      job: job(timeoutMs, maxAttempts),
      handler,
      backoffFn: undefined,
      schedule: null,
      abort,
    }),
  }
}

/** Blocks the event loop for `ms` of real time (a CPU-bound handler). */
function busyLoop(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // spin
  }
}

it('fails a synchronous handler that returned after its timeout (its timer could not fire) with JobTimeoutError', async () => {
  const clock = new BlockedClock()
  const { result, abort } = attempt(clock, () => {
    clock.now_ += 150
    return 'done late'
  })
  const r = await result
  expect(r.completion).toMatchObject({ outcome: 'retry', error: { name: 'JobTimeoutError' } })
  expect(r.outcome).toMatchObject({ outcome: 'retry', error: expect.any(JobTimeoutError) })
  expect(abort.aborted).toBe(true)
})

it('fails an async handler whose promise settled after its timeout, before the timer ran', async () => {
  const clock = new BlockedClock()
  const { result } = attempt(clock, async () => {
    await Promise.resolve()
    clock.now_ += 150
  })
  expect((await result).completion).toMatchObject({ outcome: 'retry', error: { name: 'JobTimeoutError' } })
})

it('fails for good on the last attempt, and a handler that throws late also times out', async () => {
  const clock = new BlockedClock()
  const { result } = attempt(
    clock,
    () => {
      clock.now_ += 150
      throw new Error('late error')
    },
    100,
    1,
  )
  expect((await result).completion).toMatchObject({ outcome: 'failed', error: { name: 'JobTimeoutError' } })
})

it('a late control (snooze) is a timeout too, never a snooze', async () => {
  const clock = new BlockedClock()
  const { result } = attempt(clock, (_p, ctx) => {
    clock.now_ += 150
    return ctx.snooze(10)
  })
  expect((await result).completion).toMatchObject({ outcome: 'retry', error: { name: 'JobTimeoutError' } })
})

it('succeeds a handler that returned before its timeout, and one without a timeout however long it took', async () => {
  const clock = new BlockedClock()
  const early = attempt(clock, () => {
    clock.now_ += 99
  })
  expect((await early.result).completion.outcome).toBe('succeeded')
  const none = attempt(
    clock,
    () => {
      clock.now_ += 10_000
    },
    0,
  )
  expect((await none.result).completion.outcome).toBe('succeeded')
})

const busy = defineJob<{ ms: number }>({ kind: 'busy', maxAttempts: 2, timeoutMs: 5 })

it('a real busy loop past its timeout fails in drain, performJob and a worker, never succeeds', async () => {
  const queue = createMemoryQueue({
    clock: createSystemClock(),
    workers: [{ queues: ['default'], concurrency: 1 }],
  })
  const failed: unknown[] = []
  queue.on('failed', (e) => failed.push(e.error))
  queue.register(busy, ({ ms }) => busyLoop(ms))

  // performJob
  const performed = await queue.performJob(busy, { ms: 30 })
  expect(performed).toMatchObject({ outcome: 'retry', error: expect.any(JobTimeoutError) })

  // drain
  const { id } = await queue.enqueue(busy, { ms: 30 })
  expect(await queue.drain()).toMatchObject({ succeeded: 0, retried: 1 })
  expect(await queue.getJob(id)).toMatchObject({
    state: 'retryable',
    errors: [{ name: 'JobTimeoutError', message: expect.stringContaining('5') }],
  })
  expect(failed).toEqual([expect.objectContaining({ name: 'JobTimeoutError' })])

  // a worker
  const second = await queue.enqueue(busy, { ms: 30 }, { maxAttempts: 1 })
  await queue.start()
  try {
    await waitFor(async () => (await queue.getJob(second.id))?.state === 'failed')
    expect((await queue.getJob(second.id))?.errors).toEqual([
      expect.objectContaining({ name: 'JobTimeoutError' }),
    ])
  } finally {
    await queue.shutdown()
  }
})
