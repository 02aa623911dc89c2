/**
 * Firing schedules: a late pass fires every tick it passed (within the tolerance) and counts them,
 * a tick already fired is not fired or counted again, a chained schedule fires once per success of
 * the schedule it follows; the service's start/stop are safe to repeat, stop waits for a pass in
 * flight, and a failing pass is reported on `error` and followed by the next.
 */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { createQueue } from '../../src/core/create-queue.js'
import { EventBus } from '../../src/core/domain/events.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { fireDueSchedules, ScheduleService } from '../../src/core/maintenance/schedule-service.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobStore } from '../../src/core/ports/store.js'
import { nextTurn, waitFor } from '../support/wait.js'

const T0 = Date.UTC(2030, 0, 1)
const report = defineJob<Record<string, never>>({ kind: 'report' })
const cleanup = defineJob<Record<string, never>>({ kind: 'cleanup' })

/** The ticks of `scheduled` events, by schedule name. */
function scheduledTicks(events: EventBus): { name: string; tick: number }[] {
  const seen: { name: string; tick: number }[] = []
  events.on('scheduled', ({ schedule, tick }) => seen.push({ name: schedule.name, tick }))
  return seen
}

/**
 * A queue under a manual clock on a memory store that keeps the host's time: a store call that
 * omitted `now` would judge by the wrong clock.
 */
function queueAt(clock: ManualClock) {
  return createQueue(new MemoryStore(), { clock })
}

it('a late pass fires each tick it passed, once, and counts them', async () => {
  const clock = new ManualClock(T0)
  const queue = queueAt(clock)
  await queue.schedule('@every 1s', report, {}, { name: 'report' })
  const events = new EventBus()
  const seen = scheduledTicks(events)
  clock.advance(3_500)

  expect(await fireDueSchedules(queue.store, events, clock.now(), 60_000)).toBe(3)
  expect(seen).toEqual([
    { name: 'report', tick: T0 + 1_000 },
    { name: 'report', tick: T0 + 2_000 },
    { name: 'report', tick: T0 + 3_000 },
  ])
  // Nothing more is due: a second pass at the same time fires nothing.
  expect(await fireDueSchedules(queue.store, events, clock.now(), 60_000)).toBe(0)
  expect((await queue.listJobs({ kind: 'report' })).map((j) => j.scheduleTick).sort()).toEqual([
    T0 + 1_000,
    T0 + 2_000,
    T0 + 3_000,
  ])
  await queue.shutdown()
})

it('a chained schedule fires once per success of the schedule it follows, and counts it', async () => {
  const clock = new ManualClock(T0)
  const queue = queueAt(clock)
  const { store } = queue
  await queue.schedule('@every 1h', report, {}, { name: 'report' })
  await queue.schedule('@after 5 minutes', cleanup, {}, { name: 'cleanup', after: 'report' })
  const events = new EventBus()
  const seen = scheduledTicks(events)
  clock.advance(3_600_000)
  expect(await fireDueSchedules(store, events, clock.now(), 0)).toBe(1)
  // Nothing to follow yet: the report has not succeeded.
  expect(seen.map((s) => s.name)).toEqual(['report'])

  const [job] = await store.claimJobs({
    queues: ['default'],
    kinds: ['report'],
    capacity: 1,
    strategy: 'priority',
    now: clock.now(),
    workerId: 'p1:w1',
  })
  await store.completeJobs({
    completions: [{ id: job!.id, outcome: 'succeeded', attempt: job!.attempt }],
    now: clock.now(),
  })
  expect(await fireDueSchedules(store, events, clock.now(), 0)).toBe(1)
  expect(seen).toEqual([
    { name: 'report', tick: T0 + 3_600_000 },
    { name: 'cleanup', tick: T0 + 3_600_000 + 300_000 },
  ])
  // That success is followed once.
  expect(await fireDueSchedules(store, events, clock.now(), 0)).toBe(0)
  expect(seen).toHaveLength(2)
  await queue.shutdown()
})

it('two passes at once fire each tick once between them (the loser of a compare-and-set counts nothing)', async () => {
  const clock = new ManualClock(T0)
  const queue = queueAt(clock)
  await queue.schedule('@every 1s', report, {}, { name: 'report' })
  const events = new EventBus()
  const seen = scheduledTicks(events)
  clock.advance(3_000) // exactly on the third tick: it is due, and fired
  const fired = await Promise.all([
    fireDueSchedules(queue.store, events, clock.now(), 60_000),
    fireDueSchedules(queue.store, events, clock.now(), 60_000),
  ])
  expect(fired[0]! + fired[1]!).toBe(3)
  expect(seen.map((s) => s.tick).sort()).toEqual([T0 + 1_000, T0 + 2_000, T0 + 3_000])
  await queue.shutdown()
})

it('two passes at once follow a success once between them', async () => {
  const clock = new ManualClock(T0)
  const queue = queueAt(clock)
  const { store } = queue
  await queue.schedule('@every 1h', report, {}, { name: 'report' })
  await queue.schedule('@after 5 minutes', cleanup, {}, { name: 'cleanup', after: 'report' })
  clock.advance(3_600_000)
  await fireDueSchedules(store, new EventBus(), clock.now(), 0)
  const [job] = await store.claimJobs({
    queues: ['default'],
    kinds: ['report'],
    capacity: 1,
    strategy: 'priority',
    now: clock.now(),
    workerId: 'p1:w1',
  })
  await store.completeJobs({
    completions: [{ id: job!.id, outcome: 'succeeded', attempt: job!.attempt }],
    now: clock.now(),
  })
  const events = new EventBus()
  const seen = scheduledTicks(events)
  const fired = await Promise.all([
    fireDueSchedules(store, events, clock.now(), 0),
    fireDueSchedules(store, events, clock.now(), 0),
  ])
  expect(fired[0]! + fired[1]!).toBe(1)
  expect(seen).toEqual([{ name: 'cleanup', tick: T0 + 3_600_000 + 300_000 }])
  await queue.shutdown()
})

it('one pass fires at most 1000 late ticks of a schedule; the next pass goes on', async () => {
  const clock = new ManualClock(T0)
  const queue = queueAt(clock)
  await queue.schedule('@every 1s', report, {}, { name: 'report' })
  clock.advance(1_500_000)
  const events = new EventBus()
  expect(await fireDueSchedules(queue.store, events, clock.now(), 3_600_000)).toBe(1_000)
  expect(await fireDueSchedules(queue.store, events, clock.now(), 3_600_000)).toBe(500)
  await queue.shutdown()
})

/** A memory store counting `dueSchedules` calls; `gate()` makes the next ones wait, `failOnce` throws. */
function countingStore() {
  const store = new MemoryStore()
  let passes = 0
  let gate: Promise<void> | null = null
  let open = () => {}
  let failure: Error | null = null
  const due = store.dueSchedules.bind(store)
  store.dueSchedules = async (params) => {
    passes++
    if (gate) await gate
    if (failure) {
      const error = failure
      failure = null
      throw error
    }
    return due(params)
  }
  return {
    store: store as JobStore,
    passes: () => passes,
    gate() {
      gate = new Promise<void>((resolve) => (open = resolve))
    },
    release() {
      gate = null
      open()
    },
    failOnce(error: Error) {
      failure = error
    },
  }
}

const serviceSettings = { intervalMs: 1_000, missedToleranceMs: 60_000 }

it('start() twice runs one pass and arms one timer; stop() cancels it', async () => {
  const clock = new ManualClock(T0)
  const s = countingStore()
  const service = new ScheduleService({
    store: s.store,
    clock,
    events: new EventBus(),
    settings: serviceSettings,
  })
  service.start()
  service.start()
  await waitFor(() => clock.pendingTimers === 1, { message: 'the next pass armed' })
  service.start() // also once the first pass is over
  await nextTurn() // a pass it started would have asked for due schedules by now (microtasks)
  expect(clock.pendingTimers).toBe(1)
  expect(s.passes()).toBe(1)
  clock.advance(1_000)
  await waitFor(() => s.passes() === 2 && clock.pendingTimers === 1, { message: 'the second pass' })
  await service.stop()
  expect(clock.pendingTimers).toBe(0)
  clock.advance(10_000)
  expect(s.passes()).toBe(2)
})

it('stop() during a pass waits for it, and the pass then arms no timer', async () => {
  const clock = new ManualClock(T0)
  const s = countingStore()
  const service = new ScheduleService({
    store: s.store,
    clock,
    events: new EventBus(),
    settings: serviceSettings,
  })
  s.gate()
  service.start()
  await waitFor(() => s.passes() === 1, { message: 'the first pass to start' })
  let stopped = false
  const stopping = service.stop().then(() => {
    stopped = true
  })
  await waitFor(() => clock.pendingTimers === 0)
  expect(stopped).toBe(false)
  s.release()
  await stopping
  expect(clock.pendingTimers).toBe(0)
})

it('start() again while the stopped pass is still in flight runs no second pass alongside it', async () => {
  const clock = new ManualClock(T0)
  const s = countingStore()
  const service = new ScheduleService({
    store: s.store,
    clock,
    events: new EventBus(),
    settings: serviceSettings,
  })
  s.gate()
  service.start()
  await waitFor(() => s.passes() === 1, { message: 'the first pass to start' })
  const stopping = service.stop()
  service.start()
  s.release()
  await stopping
  await waitFor(() => clock.pendingTimers === 1, { message: 'the next pass armed' })
  expect(s.passes()).toBe(1)
  await service.stop()
})

it('reports a failing pass on error (during schedule) and runs the next one', async () => {
  const clock = new ManualClock(T0)
  const s = countingStore()
  const events = new EventBus()
  const errors: { error: unknown; during: string }[] = []
  events.on('error', (e) => errors.push(e))
  const service = new ScheduleService({ store: s.store, clock, events, settings: serviceSettings })
  const failure = new Error('dueSchedules failed')
  s.failOnce(failure)
  service.start()
  await waitFor(() => errors.length === 1, { message: 'the error reported' })
  expect(errors[0]).toEqual({ error: failure, during: 'schedule' })
  await waitFor(() => clock.pendingTimers === 1, { message: 'the next pass armed' })
  clock.advance(1_000)
  await waitFor(() => s.passes() === 2, { message: 'the next pass' })
  await service.stop()
})
