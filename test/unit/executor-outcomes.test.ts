/**
 * The executor's outcomes one by one: an abort before a handler that returns at once, a timeout
 * reached exactly while the handler blocked, the shutdown's outcome, `FailJob`'s stored error, a
 * control of the user's own class (returned or thrown), the run's logs without a buffer wait, the
 * checks of a custom backoff's delay (and its warnings), and how thrown values become stored errors.
 */
import { expect, it } from 'vitest'
import type { BackoffFunction } from '../../src/core/domain/backoff.js'
import { JobControl } from '../../src/core/domain/controls.js'
import { ShutdownAbortError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { type Clock, ManualClock } from '../../src/core/ports/clock.js'
import type { LogFields, Logger } from '../../src/core/ports/logger.js'
import { silentLogger } from '../../src/core/ports/logger.js'
import type { JobHandler } from '../../src/core/ports/queue.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import { type ExecutorDeps, runAttempt } from '../../src/core/runtime/executor.js'
import { newJobBuilder } from '../support/new-job.js'

/** A fixed backoff: every retry 5 s after the attempt ended. */
const BACKOFF = { baseMs: 5000, factor: 1, maxMs: 5000, jitter: 0 }

function depsWith(overrides: Partial<ExecutorDeps> = {}): ExecutorDeps {
  return {
    clock: new ManualClock(1000),
    random: () => 0.5,
    logger: silentLogger,
    defaultBackoff: BACKOFF,
    ...overrides,
  }
}

const job: JobRecord = { ...newJobRecord('7', newJobBuilder({})(), 'running', 1000), attempt: 1 }

function attempt(
  handler: JobHandler<unknown>,
  options: {
    deps?: ExecutorDeps
    job?: JobRecord
    abort?: AbortHandle
    backoffFn?: BackoffFunction
  } = {},
) {
  return runAttempt(options.deps ?? depsWith(), {
    job: options.job ?? job,
    handler,
    backoffFn: options.backoffFn,
    schedule: null,
    abort: options.abort ?? new AbortHandle(),
  })
}

/** A logger that keeps its warnings. */
function warnings() {
  const lines: { message: string; fields: LogFields | undefined }[] = []
  const logger: Logger = {
    ...silentLogger,
    warn: (message, fields) => lines.push({ message, fields }),
  }
  return { logger, lines }
}

/** A control of the user's own (JobControl is public): it carries state, nothing else. */
class Step extends JobControl {}

it('releases a job aborted by shutdown before a handler that returns at once, with the retry outcome at its run time', async () => {
  const abort = new AbortHandle()
  abort.abort(new ShutdownAbortError())
  const result = await attempt(() => 42, { abort })
  expect(result.completion).toEqual({ id: '7', outcome: 'released', attempt: 1 })
  expect(result.outcome).toEqual({ outcome: 'retry', error: abort.reason, runAt: job.runAt })
})

it('fails an attempt whose handler returned exactly at its timeout before the timer ran', async () => {
  let now = 1000
  // A clock whose timers never fire: the handler blocks the event loop for exactly its timeout.
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel() {} }) }
  const timed = { ...job, timeoutMs: 500 }
  const abort = new AbortHandle()
  const result = await attempt(
    () => {
      now += 500
      return 'done'
    },
    { deps: depsWith({ clock }), job: timed, abort },
  )
  expect(result.completion).toMatchObject({ outcome: 'retry', error: { name: 'JobTimeoutError' } })
  expect(abort.aborted).toBe(true)
})

it("stores FailJob's reason under the name FailJob", async () => {
  const result = await attempt((_p, ctx) => ctx.fail('bad input'))
  expect(result.completion).toMatchObject({
    outcome: 'failed',
    error: { name: 'FailJob', message: 'bad input', attempt: 1, at: 1000 },
  })
})

it("settles a control of the user's own class like a value when returned and like an error when thrown, with its state", async () => {
  const returned = await attempt(() => new Step({ step: 2 }))
  expect(returned.completion).toEqual({
    id: '7',
    outcome: 'succeeded',
    attempt: 1,
    workflowState: { step: 2 },
  })
  expect(returned.outcome).toEqual({ outcome: 'succeeded', result: expect.any(Step) })

  const thrown = await attempt(() => {
    throw new Step({ step: 3 })
  })
  expect(thrown.completion).toMatchObject({ outcome: 'retry', runAt: 6000, workflowState: { step: 3 } })
  expect(thrown.outcome).toMatchObject({ outcome: 'retry' })

  const rejected = await attempt(async () => {
    await Promise.resolve()
    throw new Step({ step: 4 })
  })
  expect(rejected.completion).toMatchObject({ outcome: 'retry', workflowState: { step: 4 } })
})

it('fails a handler that throws a promise instead of running it', async () => {
  const result = await attempt(() => {
    throw Promise.resolve('not a result')
  })
  expect(result.completion).toMatchObject({ outcome: 'retry', error: { name: 'NonError' } })
})

it('keeps the logs of a run that waited in no buffer, and adds no buffer wait', async () => {
  const result = await attempt((_p, ctx) => {
    ctx.log.info('hello')
  })
  expect(result.completion).toEqual({
    id: '7',
    outcome: 'succeeded',
    attempt: 1,
    logs: { attempt: 1, lines: [expect.objectContaining({ level: 'info', message: 'hello' })] },
  })
})

it('uses the default policy without a warning when the definition has no custom backoff', async () => {
  const w = warnings()
  const result = await attempt(
    () => {
      throw new Error('again')
    },
    { deps: depsWith({ logger: w.logger }) },
  )
  expect(result.completion).toMatchObject({ outcome: 'retry', runAt: 6000 })
  expect(w.lines).toEqual([])
})

it("takes a custom backoff's finite delay >= 0, rounded up, zero included", async () => {
  const fails = () => {
    throw new Error('again')
  }
  expect((await attempt(fails, { backoffFn: () => 0 })).completion).toMatchObject({ runAt: 1000 })
  expect((await attempt(fails, { backoffFn: () => 1.2 })).completion).toMatchObject({ runAt: 1002 })
})

it("falls back to the default policy, with a warning naming the delay, when a custom backoff's delay is invalid", async () => {
  for (const bad of [-1, Number.POSITIVE_INFINITY, Number.NaN, '5' as unknown as number]) {
    const w = warnings()
    const result = await attempt(
      () => {
        throw new Error('again')
      },
      { deps: depsWith({ logger: w.logger }), backoffFn: () => bad },
    )
    expect(result.completion).toMatchObject({ outcome: 'retry', runAt: 6000 })
    expect(w.lines).toEqual([
      {
        message: 'custom backoff returned an invalid delay; using the default policy',
        fields: { delay: bad },
      },
    ])
  }
})

it('falls back to the default policy, with a warning naming the error, when a custom backoff throws', async () => {
  const w = warnings()
  const result = await attempt(
    () => {
      throw new Error('again')
    },
    {
      deps: depsWith({ logger: w.logger }),
      backoffFn: () => {
        throw new Error('broken backoff')
      },
    },
  )
  expect(result.completion).toMatchObject({ outcome: 'retry', runAt: 6000 })
  expect(w.lines).toEqual([
    {
      message: 'custom backoff threw; using the default policy',
      fields: { error: 'Error: broken backoff' },
    },
  ])
})

/** The stored error of an attempt whose handler threw `thrown`. */
async function storedError(thrown: unknown) {
  const result = await attempt(() => {
    throw thrown
  })
  const c = result.completion
  if (c.outcome !== 'retry') throw new Error(`expected a retry, got ${c.outcome}`)
  return c.error
}

it('stores an Error with its name (Error when empty), its message cut at 10,000 characters and its stack at 20,000', async () => {
  const nameless = Object.assign(new Error('x'), { name: '' })
  expect(await storedError(nameless)).toMatchObject({ name: 'Error', message: 'x' })

  const long = new Error('m'.repeat(12_000))
  long.stack = 's'.repeat(25_000)
  const e = await storedError(long)
  expect(e?.message).toHaveLength(10_000)
  expect(e?.stack).toHaveLength(20_000)

  const stackless = new Error('no stack')
  stackless.stack = undefined
  expect(await storedError(stackless)).toEqual({
    attempt: 1,
    at: 1000,
    name: 'Error',
    message: 'no stack',
    stack: undefined,
  })
})

it('stores anything else thrown as NonError: a string as is, a value as JSON, else its String, cut at 10,000', async () => {
  expect(await storedError('plain')).toEqual({ attempt: 1, at: 1000, name: 'NonError', message: 'plain' })
  expect(await storedError({ code: 1 })).toMatchObject({ name: 'NonError', message: '{"code":1}' })
  expect(await storedError(undefined)).toMatchObject({ name: 'NonError', message: 'undefined' })
  const circular: Record<string, unknown> = {}
  circular.self = circular
  expect(await storedError(circular)).toMatchObject({ name: 'NonError', message: '[object Object]' })
  expect((await storedError('n'.repeat(12_000)))?.message).toHaveLength(10_000)
})
