/**
 * The job manager against the memory store, its calls recorded: names and keys looked up within a
 * kind (and no kind when none is given), no store call for a key that names no job, the checks of
 * a page and their messages, a change refused for a job that no longer waits before its payload is
 * checked, the expression of the schedule that enqueued the job, and the `cancelled` events of an
 * operator's cancel (read in pages of 1000, oldest first, only when someone listens).
 */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { JobNotWaitingError } from '../../src/core/domain/errors.js'
import { EventBus } from '../../src/core/domain/events.js'
import { defineJob, type JobDefinition } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { JobManager } from '../../src/core/runtime/job-manager.js'
import { ScheduleRegistrar } from '../../src/core/runtime/schedule-registrar.js'
import { newJobBuilder } from '../support/new-job.js'

/** A definition whose schema accepts only `{ n: number }`. */
const strict = defineJob<{ n: number }>({
  kind: 'strict',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value: unknown) =>
        typeof (value as { n?: unknown })?.n === 'number'
          ? { value: value as { n: number } }
          : { issues: [{ message: 'n must be a number' }] },
    },
  },
})

function setup() {
  const clock = new ManualClock(1000)
  const store = new MemoryStore({ clock })
  const byKey: unknown[] = []
  const lists: unknown[] = []
  const getJobsByKey = store.getJobsByKey.bind(store)
  store.getJobsByKey = (p) => {
    byKey.push(p)
    return getJobsByKey(p)
  }
  const listJobs = store.listJobs.bind(store)
  store.listJobs = (p) => {
    lists.push(p)
    return listJobs(p)
  }
  const events = new EventBus()
  const aborted: string[] = []
  const definitions = new Map<string, JobDefinition<unknown>>([['strict', strict as JobDefinition<unknown>]])
  const manager = new JobManager({
    store,
    clock,
    events,
    abortHere: (ids) => aborted.push(...ids),
    definitionOf: (kind) => definitions.get(kind),
  })
  const insert = async (n: number, overrides: Parameters<ReturnType<typeof newJobBuilder>>[0] = {}) => {
    const row = newJobBuilder({ kind: 'strict', payload: { n: 1 } })(overrides)
    const out = await store.insertJobs({ jobs: Array.from({ length: n }, () => row), now: clock.now() })
    return out.map((o) => o.job.id)
  }
  return { clock, store, events, manager, insert, byKey, lists, aborted }
}

it('looks a name up within its kind, and without a kind when it names none', async () => {
  const t = setup()
  await t.insert(1, { kind: 'a', uniqueKey: 'k' })
  await t.insert(1, { kind: 'b', uniqueKey: 'k' })
  expect(await t.manager.getJob({ key: 'k', kind: 'b' })).toMatchObject({ kind: 'b' })
  await expect(t.manager.getJob({ key: 'k' })).rejects.toThrow(/several|kinds|ambiguous/i)
  expect(t.byKey).toStrictEqual([{ uniqueKey: 'k', kind: 'b' }, { uniqueKey: 'k' }])
})

it("turns a filter's key into the ids it names within the filter's kind, and makes no store call when it names none", async () => {
  const t = setup()
  await t.insert(1, { kind: 'a', uniqueKey: 'k' })
  await t.insert(1, { kind: 'b', uniqueKey: 'k' })
  expect((await t.manager.listJobs({ key: 'k', kind: 'a' })).map((j) => j.kind)).toEqual(['a'])
  expect((await t.manager.listJobs({ key: 'k' })).map((j) => j.kind)).toEqual(['b', 'a'])
  expect(t.byKey).toStrictEqual([{ uniqueKey: 'k', kind: 'a' }, { uniqueKey: 'k' }])
  t.lists.length = 0
  expect(await t.manager.listJobs({ key: 'none' })).toEqual([])
  expect(t.lists).toEqual([])
})

it('checks a page, naming it, and a beforeId that is no job id', async () => {
  const t = setup()
  await expect(t.manager.listJobs({}, { size: 1 } as never)).rejects.toThrow(/listJobs page/)
  await expect(t.manager.listJobs({}, { beforeId: 'x' })).rejects.toThrow(
    /beforeId must be a job id string \(the last id of the previous page\)/,
  )
  await expect(t.manager.getJob(5 as never)).rejects.toThrow(/getJob\(job\)/)
  await expect(t.manager.prune({ age: 1 } as never)).rejects.toThrow(/prune options/)
})

it('refuses a new payload for a job that no longer waits before checking it against the schema', async () => {
  const t = setup()
  const [id] = await t.insert(1)
  await t.store.claimJobs({
    queues: ['default'],
    kinds: ['strict'],
    capacity: 10,
    strategy: 'priority',
    now: 1000,
    workerId: 'w',
  })
  await expect(t.manager.updateJob(id!, { payload: { n: 'not a number' } })).rejects.toThrow(
    JobNotWaitingError,
  )
})

it('changes the expression of the schedule that enqueued the job, not of another', async () => {
  const t = setup()
  const schedules = new ScheduleRegistrar({ store: t.store, clock: t.clock })
  await schedules.schedule('@every 1 minute', strict, { n: 1 }, { name: 'first' })
  await schedules.schedule('@every 1 minute', strict, { n: 2 }, { name: 'second' })
  const [id] = await t.insert(1, { scheduleName: 'second', scheduleTick: 61_000, runAt: 61_000 })
  await t.manager.updateJob(id!, { expression: '@every 5 minutes' })
  const byName = Object.fromEntries((await t.store.listSchedules()).map((s) => [s.name, s.expression]))
  expect(byName).toEqual({ first: '@every 1 minute', second: '@every 5 minutes' })
})

it('emits one cancelled event per job an operator cancelled, oldest first, read in pages of 1000', async () => {
  const t = setup()
  const ids = await t.insert(1000)
  await t.insert(1, { kind: 'other' })
  const heard: { id: string; reason: string }[] = []
  t.events.on('cancelled', (e) => heard.push({ id: e.job.id, reason: e.reason }))
  t.lists.length = 0
  expect(await t.manager.cancelJobs({ kind: 'strict' })).toBe(1000)
  expect(heard.map((h) => h.id)).toEqual(ids)
  expect(new Set(heard.map((h) => h.reason))).toEqual(new Set(['cancelled by an operator']))
  expect(t.lists).toHaveLength(1)
  expect(t.aborted).toEqual(ids)

  const more = await t.insert(1001)
  heard.length = 0
  t.lists.length = 0
  expect(await t.manager.cancelJobs({ kind: 'strict' })).toBe(1001)
  expect(heard.map((h) => h.id)).toEqual(more)
  expect(t.lists).toHaveLength(2)
})

it('reads no cancelled jobs back when nobody listens', async () => {
  const t = setup()
  await t.insert(2)
  t.lists.length = 0
  expect(await t.manager.cancelJobs({ kind: 'strict' })).toBe(2)
  expect(t.lists).toEqual([])
})
