/**
 * The handler's context and the abort handle: run-log lines timed by the queue's clock and
 * forwarded with the job's fields, a logger read but unused leaving no log, lines past the limit
 * counted as dropped, the checks of `setState` and `snooze`; an abort handle aborts once, and a
 * signal or listener that comes after the abort still hears of it.
 */
import { expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { LogFields, Logger } from '../../src/core/ports/logger.js'
import { silentLogger } from '../../src/core/ports/logger.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import { AttemptContext } from '../../src/core/runtime/attempt-context.js'
import { newJobBuilder } from '../support/new-job.js'

const job: JobRecord = { ...newJobRecord('9', newJobBuilder({ kind: 'k' })(), 'running', 0), attempt: 2 }

function context(logger: Logger = silentLogger) {
  const clock = new ManualClock(1234)
  return {
    clock,
    ctx: new AttemptContext({ clock, logger }, { job, schedule: null, abort: new AbortHandle() }),
  }
}

it("times run-log lines by the queue's clock and forwards them with the job's id, kind and attempt", () => {
  const forwarded: (LogFields | undefined)[] = []
  const { clock, ctx } = context({ ...silentLogger, info: (_m, fields) => forwarded.push(fields) })
  clock.advance(6)
  ctx.log.info('hello', { a: 1 })
  expect(ctx.runLog).toEqual({
    attempt: 2,
    lines: [{ at: 1240, level: 'info', message: 'hello', fields: { a: 1 } }],
  })
  expect(forwarded).toEqual([{ jobId: '9', kind: 'k', attempt: 2, a: 1 }])
})

it('keeps no log for a run that read its logger but logged nothing', () => {
  const { ctx } = context()
  expect(ctx.log).toBeDefined()
  expect(ctx.runLog).toBeNull()
})

it('counts the lines past the limit as dropped', () => {
  const { ctx } = context()
  for (let i = 0; i < 201; i++) ctx.log.debug(`line ${i}`)
  const log = ctx.runLog
  expect(log?.lines).toHaveLength(200)
  expect(log?.dropped).toBe(1)
  expect(log?.attempt).toBe(2)
})

it('checks workflow state and snooze delays, naming the state', () => {
  const { ctx } = context()
  expect(() => ctx.setState({ f: () => 1 } as never)).toThrow(/workflow state/)
  expect(() => ctx.snooze(10, { state: { f: () => 1 } as never })).toThrow(/workflow state/)
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, '5' as never])
    expect(() => ctx.snooze(bad)).toThrow(/snooze\(delayMs\) needs a finite number >= 0/)
  expect(ctx.snooze(0).delayMs).toBe(0)
})

it('aborts once: the first reason stays and the listener hears it once', () => {
  const abort = new AbortHandle()
  const heard: unknown[] = []
  abort.onAbort((reason) => heard.push(reason))
  abort.abort('first')
  abort.abort('second')
  expect(abort.reason).toBe('first')
  expect(heard).toEqual(['first'])
})

it('gives a signal read after the abort, and a listener set after it, the reason', () => {
  const abort = new AbortHandle()
  abort.abort('why')
  expect(abort.signal.aborted).toBe(true)
  expect(abort.signal.reason).toBe('why')
  const heard: unknown[] = []
  abort.onAbort((reason) => heard.push(reason))
  expect(heard).toEqual(['why'])
})
