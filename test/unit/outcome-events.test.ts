/**
 * The events of a written completion, case by case: a cancel without an error, nothing at all for
 * a released job (not even `groupReleased`), `groupReleased` for a group's final outcomes and for a
 * retry only in `release` mode, and a retry's run time estimated from its delay.
 */
import { expect, it } from 'vitest'
import { EventBus } from '../../src/core/domain/events.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { Completion } from '../../src/core/ports/store.js'
import { emitOutcome } from '../../src/core/runtime/outcome-events.js'
import { newJobBuilder } from '../support/new-job.js'

const error = { attempt: 1, at: 0, name: 'Error', message: 'boom' }

function heard(job: JobRecord, c: Completion) {
  const events = new EventBus()
  const out: [string, unknown][] = []
  for (const name of ['cancelled', 'retried', 'groupReleased', 'failed', 'succeeded'] as const)
    events.on(name, (e) => out.push([name, e]))
  emitOutcome(events, new ManualClock(1000), job, c, 5)
  return out
}

const plain = newJobRecord('1', newJobBuilder({})(), 'running', 0)
const fifo = newJobRecord('2', newJobBuilder({ groupKey: 'g' })(), 'running', 0)
const release = {
  ...newJobRecord('3', newJobBuilder({ groupKey: 'g' })(), 'running', 0),
  groupMode: 'release' as const,
}

it('names a cancel without an error "cancelled"', () => {
  expect(heard(plain, { id: '1', outcome: 'cancelled' })).toEqual([
    ['cancelled', { job: plain, reason: 'cancelled' }],
  ])
})

it('emits nothing for a released job, even of a group in release mode', () => {
  expect(heard(release, { id: '3', outcome: 'released' })).toEqual([])
})

it("frees a fifo group on its job's final outcomes only, a release-mode group on a retry too", () => {
  const names = (job: JobRecord, c: Completion) => heard(job, c).map(([n]) => n)
  expect(names(fifo, { id: '2', outcome: 'failed', error })).toEqual(['failed', 'groupReleased'])
  expect(names(fifo, { id: '2', outcome: 'cancelled', error })).toEqual(['cancelled', 'groupReleased'])
  expect(names(fifo, { id: '2', outcome: 'succeeded' })).toEqual(['succeeded', 'groupReleased'])
  expect(names(fifo, { id: '2', outcome: 'retry', error, delayMs: 10 })).toEqual(['failed', 'retried'])
  expect(names(release, { id: '3', outcome: 'retry', error, delayMs: 10 })).toEqual([
    'failed',
    'retried',
    'groupReleased',
  ])
})

it("estimates a retry's run time from its delay on the queue's clock", () => {
  expect(heard(plain, { id: '1', outcome: 'retry', error, delayMs: 250 })).toContainEqual([
    'retried',
    { job: plain, runAt: 1250 },
  ])
})
