/**
 * The executor's settling of one attempt where the abort and the handler race: an attempt aborted
 * before its handler is called ends by the abort's reason without calling it, one aborted while it
 * runs ends by the abort's reason, and the promise the handler returned
 * (which may still reject, as abort-aware handlers do) is never left unhandled.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { DEFAULT_BACKOFF } from '../../src/core/domain/backoff.js'
import { JobCancelledError, ShutdownAbortError } from '../../src/core/domain/errors.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { silentLogger } from '../../src/core/ports/logger.js'
import type { JobHandler } from '../../src/core/ports/queue.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import { type ExecutorDeps, runAttempt } from '../../src/core/runtime/executor.js'
import { newJobBuilder } from '../support/new-job.js'

const deps: ExecutorDeps = {
  clock: new ManualClock(1000),
  random: () => 0.5,
  logger: silentLogger,
  defaultBackoff: DEFAULT_BACKOFF,
}
const job = { ...newJobRecord('7', newJobBuilder({})(), 'running', 1000), attempt: 1 }

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Lets Node finish the turn, when it reports rejections nobody handled. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

function attempt(handler: JobHandler<unknown>, abort: AbortHandle) {
  return runAttempt(deps, { job, handler, backoffFn: undefined, schedule: null, abort })
}

it('releases a job aborted by shutdown before its handler was called, without calling it', async () => {
  for (const handler of [() => undefined, async () => undefined]) {
    const abort = new AbortHandle()
    abort.abort(new ShutdownAbortError())
    let called = false
    const result = await attempt(() => {
      called = true
      return handler()
    }, abort)
    expect(result.completion).toEqual({ id: '7', outcome: 'released', attempt: 1 })
    expect(called).toBe(false)
  }
  await nextTurn()
  expect(unhandled).toEqual([])
})

it('cancels a job cancelled before its handler was called, without calling it', async () => {
  const abort = new AbortHandle()
  abort.abort(new JobCancelledError('by an operator'))
  let called = false
  const result = await attempt(() => {
    called = true
  }, abort)
  expect(result.completion).toMatchObject({ id: '7', outcome: 'cancelled', attempt: 1 })
  expect(called).toBe(false)
})

it('cancels a job aborted while its handler was still running synchronously, whatever its promise does later', async () => {
  const abort = new AbortHandle()
  const result = await attempt(() => {
    abort.abort(new JobCancelledError('operator'))
    return Promise.reject(new Error('too late to matter'))
  }, abort)
  expect(result.completion).toMatchObject({ id: '7', outcome: 'cancelled', attempt: 1 })
  expect(result.outcome).toEqual({ outcome: 'cancelled', reason: expect.stringContaining('operator') })
  await nextTurn()
  expect(unhandled).toEqual([])
})

it('settles a handler that returns without a promise at once, naming the attempt', async () => {
  const result = await attempt(() => 42, new AbortHandle())
  expect(result.completion).toEqual({ id: '7', outcome: 'succeeded', attempt: 1 })
  expect(result.outcome).toEqual({ outcome: 'succeeded', result: 42 })
})

it('races an async handler against a later abort: the abort wins and the late rejection is handled', async () => {
  const abort = new AbortHandle()
  let reject!: (e: Error) => void
  const pending = attempt(() => new Promise((_resolve, rej) => (reject = rej)), abort)
  abort.abort(new ShutdownAbortError())
  const result = await pending
  reject(new Error('after the abort'))
  expect(result.completion.outcome).toBe('released')
  await nextTurn()
  expect(unhandled).toEqual([])
})

it('sends a retry and a snooze as run times under a ManualClock, as delays under a real-time clock', async () => {
  const fixedBackoff = { ...DEFAULT_BACKOFF, baseMs: 5000, jitter: 0 }
  const run = (clock: ExecutorDeps['clock'], handler: JobHandler<unknown>) =>
    runAttempt(
      { ...deps, clock, defaultBackoff: fixedBackoff },
      { job, handler, backoffFn: undefined, schedule: null, abort: new AbortHandle() },
    )
  const manual = new ManualClock(1000)
  const fails: JobHandler<unknown> = () => {
    throw new Error('again')
  }
  const snoozes: JobHandler<unknown> = (_payload, ctx) => ctx.snooze(250)
  expect((await run(manual, fails)).completion).toMatchObject({ outcome: 'retry', runAt: 6000 })
  expect((await run(manual, fails)).completion).not.toHaveProperty('delayMs')
  expect((await run(manual, snoozes)).completion).toMatchObject({ outcome: 'snoozed', runAt: 1250 })

  // A real-time clock (the system clock, a DatabaseClock): the store adds the delay to its own time.
  const realTime = Object.assign(new ManualClock(1000), { realTime: true })
  const retried = await run(realTime, fails)
  expect(retried.completion).toMatchObject({ outcome: 'retry', delayMs: 5000 })
  expect(retried.completion).not.toHaveProperty('runAt')
  expect(retried.outcome).toMatchObject({ outcome: 'retry', runAt: 6000 }) // the clock's estimate, for events
  const snoozed = await run(realTime, snoozes)
  expect(snoozed.completion).toMatchObject({ outcome: 'snoozed', delayMs: 250 })
  expect(snoozed.completion).not.toHaveProperty('runAt')
})

it("carries the job's wait in the local buffer with its completion, beside the run's logs, and nothing without one", async () => {
  const run = (bufferWaitMs: number | undefined, handler: JobHandler<unknown>) =>
    runAttempt(deps, {
      job,
      handler,
      backoffFn: undefined,
      schedule: null,
      abort: new AbortHandle(),
      bufferWaitMs,
    })
  expect((await run(250, () => undefined)).completion).toEqual({
    id: '7',
    outcome: 'succeeded',
    attempt: 1,
    bufferWaitMs: 250,
  })
  const logged = await run(40, (_p, ctx) => {
    ctx.log.info('hi')
    throw new Error('boom')
  })
  expect(logged.completion).toMatchObject({ outcome: 'retry', bufferWaitMs: 40, logs: { attempt: 1 } })
  expect((await run(0, () => undefined)).completion).toEqual({ id: '7', outcome: 'succeeded', attempt: 1 })
  expect((await run(undefined, () => undefined)).completion).toEqual({
    id: '7',
    outcome: 'succeeded',
    attempt: 1,
  })
})

it('fails an attempt whose handler throws a rejected promise, and handles that rejection (aborted or not)', async () => {
  for (const aborted of [false, true]) {
    const abort = new AbortHandle()
    const result = await attempt(() => {
      if (aborted) abort.abort(new JobCancelledError('operator'))
      // A handler that throws (not returns) a promise: the thrown value is the attempt's error, and
      // the promise's own rejection must not reach the process as unhandled.
      throw Promise.reject(new Error('thrown as a promise'))
    }, abort)
    expect(result.completion.outcome, `aborted: ${aborted}`).toBe(aborted ? 'cancelled' : 'retry')
    await nextTurn()
    expect(unhandled, `aborted: ${aborted}`).toEqual([])
  }
})

it('fails an attempt whose handler throws a thenable whose then throws, without throwing itself', async () => {
  const bad = {
    // biome-ignore lint/suspicious/noThenProperty: the point is a broken thenable
    then() {
      throw new Error('not a promise after all')
    },
  }
  const result = await attempt(() => {
    throw bad
  }, new AbortHandle())
  expect(result.completion.outcome).toBe('retry')
})
