/**
 * Bad input, property-based: generated invalid values fed to every public entry point of the
 * library, on the memory adapter and on PostgreSQL. Each call must fail with a typed
 * `ConveyorError` (a stable code and a message), never a TypeError, RangeError or a raw `pg` error,
 * and a refused call must leave the store exactly as it was (no partial write). Valid JSON payloads
 * must come back from the store unchanged.
 *
 * Scale: `RELIABILITY_SCALE=long` raises the runs per property (see `numRuns`).
 */
import { inspect } from 'node:util'
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemoryQueue, MemoryStore } from '../../src/adapters/memory/index.js'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { type CoreQueue, createQueue } from '../../src/core/create-queue.js'
import { ConveyorError, InvalidPayloadError } from '../../src/core/domain/errors.js'
import { defineJob, type JobDefinition } from '../../src/core/domain/job-definition.js'
import type { JsonValue } from '../../src/core/domain/json.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobContext } from '../../src/core/ports/queue.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { writeScenarioResult } from '../support/reliability-results.js'
import {
  attackString,
  badDefinition,
  badDrainOptions,
  badEnqueueOptions,
  badFilter,
  badName,
  badPage,
  badPruneOptions,
  badQueueOptions,
  badRegisterOptions,
  badScheduleExpression,
  badScheduleOptions,
  badShutdownOptions,
  nonJsonValue,
  numRuns,
  storableJson,
  unstorableString,
} from './arbitraries.js'

const T0 = Date.UTC(2030, 0, 1)
const database = await provideDatabase()
const startedAt = performance.now()

/** What the properties fed in and what came out, for reliability-results/bad-input.json. */
const figures = {
  properties: 0,
  runs: 0,
  refusedTyped: 0,
  partialWrites: 0,
  roundTrips: 0,
  byAdapter: {} as Record<string, { runs: number; refused: number }>,
}

const note = defineJob<Record<string, unknown>>({ kind: 'note', queue: 'notes' })
const other = defineJob<JsonValue>({ kind: 'other' })
const echo = defineJob<JsonValue>({ kind: 'echo', queue: 'echo', maxAttempts: 1 })

/** Calls `run`, expects a typed Conveyor error, and returns it. */
async function refused(run: () => unknown): Promise<ConveyorError> {
  let error: unknown
  let returned: unknown
  try {
    returned = await run()
  } catch (caught) {
    error = caught
  }
  if (!(error instanceof ConveyorError)) {
    throw new Error(
      error === undefined
        ? `expected a ConveyorError, but the call succeeded with ${inspect(returned, { depth: 1 })}`
        : `expected a ConveyorError, got ${inspect(error, { depth: 1 })}`,
    )
  }
  expect(error.code).toMatch(/^[A-Z][A-Z_]+$/)
  expect(error.message.length).toBeGreaterThan(10)
  figures.refusedTyped++
  return error
}

interface AdapterUnderTest {
  readonly name: 'memory' | 'postgres'
  readonly skip: string | null
  create(): Promise<{ queue: CoreQueue; close(): Promise<void>; pool?: pg.Pool }>
}

const adapters: AdapterUnderTest[] = [
  {
    name: 'memory',
    skip: null,
    async create() {
      const queue = createMemoryQueue({ clock: new ManualClock(T0) })
      return { queue, close: () => queue.shutdown({ graceMs: 0 }) }
    },
  },
  {
    name: 'postgres',
    skip: 'skip' in database ? database.skip : null,
    async create() {
      if ('skip' in database) throw new Error(database.skip)
      const pool = new pg.Pool({ connectionString: database.url, max: 4 })
      const schema = createTestSchema(database.url, 'conveyor_bad_input')
      const queue = createPostgresQueue({ pool, schema: schema.schema, clock: new ManualClock(T0) })
      await queue.migrate()
      return {
        queue,
        pool,
        async close() {
          try {
            await queue.shutdown({ graceMs: 0 })
            await schema.drop()
          } finally {
            await pool.end()
          }
        },
      }
    },
  },
]

for (const adapter of adapters) {
  const runs = numRuns(adapter.name)
  const suite = adapter.skip ? describe.skip : describe
  if (adapter.skip) console.warn(`[bad-input on ${adapter.name} skipped] ${adapter.skip}`)

  suite(`bad input on ${adapter.name}`, { timeout: 600_000 }, () => {
    let queue: CoreQueue
    let close: () => Promise<void>
    let pool: pg.Pool | undefined
    let seeded: string[] = []
    const stats = { runs: 0, refused: 0 }
    figures.byAdapter[adapter.name] = stats

    /** Everything a caller can see of the store. */
    const snapshot = async () => ({
      jobs: await queue.listJobs({}, { limit: 10_000 }),
      schedules: await queue.listSchedules(),
      stats: await queue.stats(),
    })

    /** Runs a property of refusals and checks the store did not change across each run. */
    const refusedProperty = <T>(
      arbitrary: fc.Arbitrary<T>,
      call: (value: T) => unknown,
      options: { unchanged?: boolean; check?: (error: ConveyorError, value: T) => void } = {},
    ) => {
      figures.properties++
      return fc.assert(
        fc.asyncProperty(arbitrary, async (value) => {
          stats.runs++
          figures.runs++
          const before = options.unchanged === false ? null : await snapshot()
          const error = await refused(() => call(value))
          stats.refused++
          options.check?.(error, value)
          if (before) {
            const after = await snapshot()
            if (JSON.stringify(after) !== JSON.stringify(before)) figures.partialWrites++
            expect(after).toEqual(before)
          }
        }),
        { numRuns: runs },
      )
    }

    beforeAll(async () => {
      ;({ queue, close, pool } = await adapter.create())
      // Something to lose: jobs in several states and a schedule.
      const a = await queue.enqueue(note, { n: 1 })
      const b = await queue.enqueue(note, { n: 2 }, { delayMs: 60_000, uniqueKey: 'u1', tags: ['t'] })
      const c = await queue.enqueue(other, [1, 'two', null], { queue: 'second', priority: -5 })
      await queue.schedule('0 4 * * *', note, { nightly: true }, { name: 'nightly' })
      seeded = [a.id, b.id, c.id]
    })

    afterAll(async () => {
      const left = await queue.listJobs({ ids: seeded })
      const lost = seeded.length - left.length
      figures.byAdapter[`${adapter.name}:lost`] = { runs: lost, refused: 0 }
      await close()
    })

    it('defineJob refuses bad kinds, options and schemas', () => {
      figures.properties++
      fc.assert(
        fc.property(badDefinition, (input) => {
          let error: unknown
          try {
            defineJob(input as never)
          } catch (caught) {
            error = caught
          }
          expect(error, inspect(input)).toBeInstanceOf(ConveyorError)
          expect((error as ConveyorError).code).toBe('INVALID_JOB_DEFINITION')
          figures.runs++
        }),
        { numRuns: runs },
      )
    })

    it('enqueue refuses payloads that are not storable JSON, before writing', () =>
      refusedProperty(nonJsonValue, (payload) => queue.enqueue(note, payload as never), {
        check: (error) => {
          expect(error).toBeInstanceOf(InvalidPayloadError)
          // Refused by Conveyor itself, not by the database after the fact.
          expect((error.cause as { code?: unknown } | undefined)?.code).toBeUndefined()
        },
      }))

    it('enqueue refuses bad options', () =>
      refusedProperty(badEnqueueOptions, (options) => queue.enqueue(note, { ok: true }, options as never)))

    it('enqueue refuses what is not a job definition', () =>
      refusedProperty(
        fc.oneof(
          fc.constantFrom(undefined, null, 'note', 5, {}, { kind: 'note' }, { kind: 'a b', defaults: {} }),
          badName.map((kind) => ({ kind, defaults: note.defaults })),
        ),
        (job) => queue.enqueue(job as never, {}),
      ))

    it('enqueueMany writes nothing when one item of the batch is bad', () => {
      const goodItem = fc.record({
        job: fc.constantFrom(note, other),
        payload: fc.jsonValue({ maxDepth: 2 }),
      })
      const badItem = fc.oneof(
        nonJsonValue.map((payload) => ({ job: note, payload })),
        badEnqueueOptions.map((options) => ({ job: note, payload: {}, options })),
        fc.constantFrom(null, 5, 'item', { payload: {} }, { job: note, payload: {}, options: { tx: {} } }),
      )
      return refusedProperty(
        fc.tuple(fc.array(goodItem, { maxLength: 5 }), badItem, fc.nat()).map(([good, bad, at]) => {
          const items: unknown[] = [...good]
          items.splice(at % (good.length + 1), 0, bad)
          return items
        }),
        (items) => queue.enqueueMany(items as never),
      )
    })

    it('enqueueMany refuses a batch that is not an array, and bad batch options', () =>
      refusedProperty(
        fc.oneof(
          fc.constantFrom(null, 5, 'items', { job: note, payload: {} }).map((items) => [items, undefined]),
          fc
            .constantFrom(null, 5, 'tx', { tx: 5 }, { tx: {} }, { bogus: 1 })
            .map((options) => [[{ job: note, payload: {} }], options]),
        ),
        ([items, options]) => queue.enqueueMany(items as never, options as never),
      ))

    it('schedule refuses invalid expressions', () =>
      refusedProperty(badScheduleExpression, (expression) => queue.schedule(expression as never, note, {})))

    it('schedule either stores any string expression or refuses it with a typed error', () => {
      figures.properties++
      return fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 40 }), async (expression) => {
          stats.runs++
          figures.runs++
          const before = await snapshot()
          try {
            const schedule = await queue.schedule(expression, note, {}, { name: 'fuzzed' })
            expect(schedule.name).toBe('fuzzed')
            await queue.unschedule('fuzzed')
          } catch (error) {
            expect(error, inspect(error)).toBeInstanceOf(ConveyorError)
            figures.refusedTyped++
          }
          expect(await snapshot()).toEqual(before)
        }),
        { numRuns: runs },
      )
    })

    it('schedule refuses bad options, names, time zones and payloads', () =>
      refusedProperty(
        fc.oneof(
          badScheduleOptions.map((options) => ({ options, payload: {} as unknown })),
          nonJsonValue.map((payload) => ({ options: { name: 'fuzzed' } as unknown, payload })),
        ),
        ({ options, payload }) => queue.schedule('*/5 * * * *', note, payload as never, options as never),
      ))

    it('unschedule refuses bad names', () =>
      refusedProperty(badName, (name) => queue.unschedule(name as never)))

    it('register refuses bad definitions, handlers and options', () => {
      let n = 0
      return refusedProperty(
        fc.oneof(
          badRegisterOptions.map((options) => ({ job: 'fresh', handler: () => {}, options }) as const),
          fc
            .constantFrom(null, 5, 'handler', {})
            .map((handler) => ({ job: 'fresh', handler, options: undefined }) as const),
          fc
            .constantFrom(null, 'note', { kind: 'note' })
            .map((job) => ({ job, handler: () => {}, options: {} })),
        ),
        ({ job, handler, options }) => {
          const definition = job === 'fresh' ? defineJob({ kind: `fresh-${adapter.name}-${n++}` }) : job
          return queue.register(definition as JobDefinition<unknown>, handler as never, options as never)
        },
      )
    })

    it(`${adapter.name === 'memory' ? 'createMemoryQueue' : 'createPostgresQueue'} refuses bad options`, () =>
      refusedProperty(
        badQueueOptions,
        (options) => {
          if (adapter.name === 'memory') {
            // The core's own constructor must refuse them too.
            expect(() => createQueue(new MemoryStore(), options as never)).toThrow(ConveyorError)
            return createMemoryQueue(options as never)
          }
          const isObject = typeof options === 'object' && options !== null && !Array.isArray(options)
          return createPostgresQueue(
            (isObject ? { pool, schema: 'conveyor_unused', ...options } : options) as never,
          )
        },
        { unchanged: false },
      ))

    it('listJobs refuses bad filters and pages', () =>
      refusedProperty(
        fc.oneof(
          badFilter.map((filter) => [filter, undefined]),
          badPage.map((page) => [{}, page]),
        ),
        ([filter, page]) => queue.listJobs(filter as never, page as never),
      ))

    it('retryJobs, cancelJobs and deleteJobs refuse bad and empty filters and change nothing', () =>
      refusedProperty(
        fc.tuple(
          fc.constantFrom('retryJobs', 'cancelJobs', 'deleteJobs') as fc.Arbitrary<
            'retryJobs' | 'cancelJobs' | 'deleteJobs'
          >,
          fc.oneof(badFilter, fc.constantFrom(undefined, {}, { queue: undefined, states: undefined })),
        ),
        ([method, filter]) => queue[method](filter as never),
      ))

    it('pauseQueue and resumeQueue refuse bad queue names', () =>
      refusedProperty(
        fc.tuple(
          fc.constantFrom('pauseQueue', 'resumeQueue') as fc.Arbitrary<'pauseQueue' | 'resumeQueue'>,
          badName,
        ),
        ([method, name]) => queue[method](name as never),
      ))

    it('getJob refuses what is not a job id', () =>
      refusedProperty(
        fc.oneof(
          fc.string().filter((s) => !/^[0-9]{1,19}$/.test(s)),
          fc.constantFrom(5, null, undefined, {}, ['1'], '-1', '1.5', '1e3'),
        ),
        (id) => queue.getJob(id as never),
      ))

    it('getJob and updateJob refuse bad job names (key, kind, extra fields)', () =>
      refusedProperty(
        fc.tuple(
          fc.constantFrom('getJob', 'updateJob'),
          fc.oneof(
            fc.record({
              key: fc.oneof(
                fc.constantFrom('', null, 5, ['k'], {}),
                fc.string({ minLength: 513 }),
                unstorableString,
              ),
            }),
            fc.record({ key: fc.constant('k'), kind: badName }),
            fc.record({ key: fc.constant('k'), id: fc.string() }),
            fc.record({ kind: fc.constant('report') }),
          ),
        ),
        ([method, ref]) =>
          method === 'getJob' ? queue.getJob(ref as never) : queue.updateJob(ref as never, { priority: 1 }),
      ))

    it('prune, drain and shutdown refuse bad options (and the queue keeps working)', async () => {
      await refusedProperty(badPruneOptions, (options) => queue.prune(options as never))
      await refusedProperty(badDrainOptions, (options) => queue.drain(options as never))
      await refusedProperty(badShutdownOptions, (options) => queue.shutdown(options as never))
      const job = await queue.enqueue(other, { still: 'works' })
      expect((await queue.getJob(job.id))?.payload).toEqual({ still: 'works' })
      await queue.deleteJobs({ ids: [job.id] })
    })

    it('job controls refuse bad values with typed errors inside the handler', async () => {
      const controls = defineJob<{ control: string; value: unknown }>({ kind: 'controls', maxAttempts: 1 })
      const seen: unknown[] = []
      let pending: { control: string; value: unknown } = { control: '', value: null }
      queue.register(controls, (_payload, ctx: JobContext) => {
        const { control, value } = pending
        try {
          if (control === 'snooze') ctx.snooze(value as number)
          else if (control === 'snoozeState') ctx.snooze(1000, { state: value as never })
          else ctx.setState(value as never)
          seen.push(undefined)
        } catch (error) {
          seen.push(error)
        }
      })
      figures.properties++
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc
              .oneof(
                fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
                fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, '5', null, {}),
              )
              .map((value) => ({ control: 'snooze', value })),
            nonJsonValue.filter((v) => v !== undefined).map((value) => ({ control: 'snoozeState', value })),
            nonJsonValue.map((value) => ({ control: 'setState', value })),
          ),
          async (input) => {
            stats.runs++
            figures.runs++
            pending = input
            seen.length = 0
            const job = await queue.enqueue(controls, { control: input.control, value: null })
            const result = await queue.drain({ queues: ['default'] })
            expect(result.total).toBe(1)
            expect(seen).toHaveLength(1)
            expect(seen[0], inspect(input.value)).toBeInstanceOf(ConveyorError)
            figures.refusedTyped++
            // The handler caught the refusal and returned: the job succeeded, its state untouched.
            const stored = await queue.getJob(job.id)
            expect(stored?.state).toBe('succeeded')
            expect(stored?.workflowState).toBeNull()
            await queue.deleteJobs({ ids: [job.id] })
          },
        ),
        { numRuns: Math.max(10, Math.floor(runs / 2)) },
      )
    })

    it('fail and cancel with odd reasons end the job as told, with a string reason', async () => {
      const ending = defineJob<{ how: 'fail' | 'cancel' }>({ kind: 'ending', maxAttempts: 3 })
      let reason: unknown
      queue.register(ending, ({ how }, ctx) =>
        how === 'fail' ? ctx.fail(reason as never) : ctx.cancel(reason as never),
      )
      figures.properties++
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('fail', 'cancel') as fc.Arbitrary<'fail' | 'cancel'>,
          fc.oneof(
            attackString,
            fc.constantFrom(5, null, undefined, {}, ['a']),
            fc.string({ maxLength: 5000 }),
          ),
          async (how, value) => {
            stats.runs++
            figures.runs++
            reason = value
            const job = await queue.enqueue(ending, { how })
            await queue.drain({ queues: ['default'] })
            const stored = await queue.getJob(job.id)
            expect(stored?.state).toBe(how === 'fail' ? 'failed' : 'cancelled')
            const last = stored?.errors.at(-1)
            expect(typeof last?.message).toBe('string')
            await queue.deleteJobs({ ids: [job.id] })
          },
        ),
        { numRuns: Math.max(10, Math.floor(runs / 2)) },
      )
    })

    it('any storable JSON payload and workflow state come back unchanged', async () => {
      figures.properties++
      await fc.assert(
        fc.asyncProperty(storableJson, storableJson, async (payload, state) => {
          stats.runs++
          figures.runs++
          const job = await queue.enqueue(echo, payload, { state })
          const stored = await queue.getJob(job.id)
          // JSON semantics on both adapters: what JSON.stringify would keep (so -0 reads back as 0).
          expect(stored?.payload).toStrictEqual(JSON.parse(JSON.stringify(payload)))
          expect(stored?.workflowState).toStrictEqual(JSON.parse(JSON.stringify(state)))
          figures.roundTrips++
          await queue.deleteJobs({ ids: [job.id] })
        }),
        { numRuns: runs },
      )
    })

    it('keeps edge values exact: -0 reads 0, large and tiny numbers, unicode, __proto__ keys', async () => {
      const payload = JSON.parse(
        '{"__proto__":{"polluted":true},"neg":-0,"big":1e308,"tiny":5e-324,"unsafe":9007199254740993,"emoji":"😀 é \\u2028","nested":[[[{"a":[]}]]]}',
      )
      const job = await queue.enqueue(echo, payload)
      const stored = (await queue.getJob(job.id))?.payload as Record<string, unknown>
      expect(stored).toStrictEqual(JSON.parse(JSON.stringify(payload)))
      expect(Object.is(stored.neg, 0)).toBe(true)
      expect(Object.keys(stored)).toContain('__proto__')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      await queue.deleteJobs({ ids: [job.id] })
    })

    it('refuses \\u0000 and lone surrogates in every stored string before writing', async () => {
      for (const bad of ['a\u0000b', 'x\ud800', '\udc00y']) {
        const before = await snapshot()
        for (const call of [
          () => queue.enqueue(echo, bad),
          () => queue.enqueue(echo, { [bad]: 1 }),
          () => queue.enqueue(echo, {}, { metadata: { m: bad } }),
          () => queue.enqueue(echo, {}, { state: [bad] }),
          () => queue.enqueue(echo, {}, { tags: [bad] }),
          () => queue.enqueue(echo, {}, { uniqueKey: bad }),
          () => queue.enqueue(echo, {}, { groupKey: bad }),
          () => queue.schedule('@every 1h', echo, { bad }, { name: 'surrogates' }),
          () => queue.listJobs({ payloadContains: bad }),
        ]) {
          const error = await refused(call)
          expect(error.cause === undefined || error.cause instanceof ConveyorError).toBe(true)
        }
        expect(await snapshot()).toEqual(before)
      }
    })
  })
}

afterAll(() => {
  const lostFor = (name: string) => figures.byAdapter[`${name}:lost`]?.runs ?? 0
  writeScenarioResult({
    scenario: 'bad-input',
    rounds: figures.runs,
    faultsInjected: figures.refusedTyped,
    jobs: figures.roundTrips,
    lost: lostFor('memory') + lostFor('postgres'),
    doubled: figures.partialWrites,
    durationMs: Math.round(performance.now() - startedAt),
    notes:
      'fast-check properties over every library entry point on memory and PostgreSQL: invalid input refused with a typed ConveyorError, no partial write; valid JSON payloads and state round-trip exactly',
    properties: figures.properties,
    refusedTyped: figures.refusedTyped,
    partialWrites: figures.partialWrites,
    roundTrips: figures.roundTrips,
    runsByAdapter: Object.fromEntries(
      Object.entries(figures.byAdapter).filter(([name]) => !name.includes(':')),
    ),
  })
})
