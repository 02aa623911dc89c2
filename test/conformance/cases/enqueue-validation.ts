import { describe, expect, it } from 'vitest'
import { InvalidPayloadError } from '../../../src/core/domain/errors.js'
import { defineJob, type JobDefinition } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { expectError, useHarness } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong values through the typed API.
type Any = any
const loose = defineJob<Any>({ kind: 'loose' })

class Money {
  constructor(readonly cents: number) {}
}

/** Enqueue validation: definitions, non-JSON payloads with paths, options; nothing stored on failure. */
export default function enqueueValidationCases(factory: HarnessFactory): void {
  describe('enqueue validation', () => {
    const open = useHarness(factory)

    describe('job definitions', () => {
      it.each([
        ['an empty kind', ''],
        ['a kind with spaces', 'send email'],
        ['a kind starting with a symbol', '-send'],
        ['a kind that is too long', 'k'.repeat(129)],
        ['a non-string kind', 42],
      ])('defineJob rejects %s with INVALID_JOB_DEFINITION', async (_label, kind) => {
        await expectError(() => defineJob({ kind: kind as Any }), 'INVALID_JOB_DEFINITION', 'kind')
      })

      it('defineJob rejects unknown options, naming them', async () => {
        await expectError(
          () => defineJob({ kind: 'x', retries: 3 } as Any),
          'INVALID_JOB_DEFINITION',
          '"retries"',
        )
      })

      it.each([
        ['priority', { priority: 1.5 }],
        ['maxAttempts', { maxAttempts: 0 }],
        ['timeoutMs', { timeoutMs: -1 }],
        ['weight', { weight: 0 }],
        ['queue', { queue: 'bad queue' }],
        ['backoff', { backoff: { factor: 0.5 } }],
      ])('defineJob rejects an out-of-range default %s', async (field, defaults) => {
        await expectError(
          () => defineJob({ kind: 'x', ...(defaults as object) }),
          'INVALID_JOB_DEFINITION',
          field,
        )
      })

      it('enqueue rejects something that is not a job definition', async () => {
        const h = await open()
        await expectError(() => h.queue.enqueue({ kind: 'fake' } as Any, {}), 'INVALID_ARGUMENT', 'defineJob')
        expect(await h.queue.listJobs()).toEqual([])
      })
    })

    describe('non-JSON payloads are rejected with INVALID_PAYLOAD naming the path', () => {
      const cases: [string, unknown, (string | number)[], string][] = [
        ['undefined at the top', undefined, [], 'undefined'],
        ['an undefined property', { to: 'a', cc: undefined }, ['cc'], 'undefined'],
        ['NaN', { amount: Number.NaN }, ['amount'], 'NaN'],
        ['Infinity', { amount: Number.POSITIVE_INFINITY }, ['amount'], 'Infinity'],
        ['a bigint', { id: 10n }, ['id'], 'bigint'],
        ['a Date', { when: new Date(0) }, ['when'], 'Date'],
        ['a Map', { lookup: new Map() }, ['lookup'], 'Map'],
        ['a class instance', { price: new Money(100) }, ['price'], 'Money'],
        ['a function', { cb: () => 1 }, ['cb'], 'function'],
        ['a symbol', { s: Symbol('x') }, ['s'], 'symbol'],
        [
          'a value deep in arrays',
          { items: [{ ok: 1 }, { bad: [0, Number.NaN] }] },
          ['items', 1, 'bad', 1],
          'NaN',
        ],
      ]
      it.each(cases)('%s', async (_label, payload, path, fragment) => {
        const h = await open()
        const error = await expectError(() => h.queue.enqueue(loose, payload), 'INVALID_PAYLOAD', fragment)
        expect(error).toBeInstanceOf(InvalidPayloadError)
        expect((error as InvalidPayloadError).issues[0]?.path).toEqual(path)
        const shown = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')
        if (shown) expect(error.message).toContain(shown)
        expect(await h.queue.listJobs()).toEqual([])
      })

      it('a circular reference', async () => {
        const h = await open()
        const payload: Record<string, unknown> = { a: { b: {} } }
        ;(payload.a as Record<string, Record<string, unknown>>).b!.back = payload
        const error = await expectError(() => h.queue.enqueue(loose, payload), 'INVALID_PAYLOAD', 'circular')
        expect((error as InvalidPayloadError).issues[0]?.path).toEqual(['a', 'b', 'back'])
        expect(await h.queue.listJobs()).toEqual([])
      })

      it('accepts the same object twice in a payload when it is not a cycle', async () => {
        const h = await open()
        const shared = { n: 1 }
        const r = await h.queue.enqueue(loose, { a: shared, b: shared, list: [shared, shared] })
        expect((await h.queue.getJob(r.id))?.payload).toEqual({
          a: { n: 1 },
          b: { n: 1 },
          list: [{ n: 1 }, { n: 1 }],
        })
      })

      it('accepts every plain JSON top-level value', async () => {
        const h = await open()
        for (const payload of [null, 0, 'text', true, [], {}]) {
          const r = await h.queue.enqueue(loose, payload)
          expect((await h.queue.getJob(r.id))?.payload).toEqual(payload)
        }
      })
    })

    describe('options', () => {
      const bad: [string, Record<string, unknown>, string][] = [
        ['an unknown option', { prio: 1 }, '"prio"'],
        ['a fractional priority', { priority: 1.5 }, 'priority'],
        ['a priority above the range', { priority: 40_000 }, 'priority'],
        ['a priority below the range', { priority: -40_000 }, 'priority'],
        ['a string priority', { priority: '1' }, 'priority'],
        ['zero maxAttempts', { maxAttempts: 0 }, 'maxAttempts'],
        ['a negative timeout', { timeoutMs: -1 }, 'timeoutMs'],
        ['a zero weight', { weight: 0 }, 'weight'],
        ['a negative delay', { delayMs: -5 }, 'delayMs'],
        ['a NaN delay', { delayMs: Number.NaN }, 'delayMs'],
        ['both runAt and delayMs', { runAt: 0, delayMs: 1 }, 'runAt'],
        ['an invalid runAt Date', { runAt: new Date('nope') }, 'runAt'],
        ['a string runAt', { runAt: '2030-01-01' }, 'runAt'],
        ['an invalid queue name', { queue: 'has space' }, 'queue'],
        ['an empty unique key', { uniqueKey: '' }, 'uniqueKey'],
        ['a non-string group key', { groupKey: 5 }, 'groupKey'],
        ['non-string tags', { tags: ['ok', 3] }, 'tags'],
        ['metadata that is not an object', { metadata: [1] }, 'metadata'],
        ['non-JSON metadata', { metadata: { at: new Date(0) } }, 'metadata'],
        ['a non-JSON workflow state', { state: { n: 1n } }, 'state'],
        ['an invalid dependency id', { dependsOn: 'abc' }, 'dependsOn'],
        ['a backoff with an unknown field', { backoff: { base: 1 } }, 'backoff'],
        ['a backoff function per job', { backoff: () => 1 }, 'backoff'],
        ['a transaction without query()', { tx: {} }, 'tx'],
        ['options that are not an object', 'fast' as unknown as Record<string, unknown>, 'object'],
      ]
      it.each(bad)(
        'rejects %s with INVALID_OPTIONS and stores nothing',
        async (_label, options, fragment) => {
          const h = await open()
          await expectError(
            () => h.queue.enqueue(loose, { a: 1 }, options as Any),
            'INVALID_OPTIONS',
            fragment,
          )
          expect(await h.queue.listJobs()).toEqual([])
        },
      )

      it('accepts the extreme valid values', async () => {
        const h = await open()
        const a = await h.queue.enqueue(loose, 1, {
          priority: -32768,
          maxAttempts: 1,
          timeoutMs: 0,
          delayMs: 0,
        })
        const b = await h.queue.enqueue(loose, 2, { priority: 32767, maxAttempts: 10_000 })
        expect((await h.queue.getJob(a.id))?.priority).toBe(-32768)
        expect((await h.queue.getJob(b.id))?.priority).toBe(32767)
      })

      it('error messages say how to fix the option', async () => {
        const h = await open()
        const error = await expectError(
          () => h.queue.enqueue(loose, 1, { priority: 99_999 }),
          'INVALID_OPTIONS',
        )
        expect(error.message).toMatch(/-32768.*32767/)
        const unknown = await expectError(
          () => h.queue.enqueue(loose, 1, { delay: 5 } as Any),
          'INVALID_OPTIONS',
        )
        expect(unknown.message).toContain('delayMs')
      })
    })

    it('a definition typed by generic still rejects non-JSON at runtime', async () => {
      const h = await open()
      const typed: JobDefinition<{ when: string }> = defineJob<{ when: string }>({ kind: 'typed' })
      await expectError(() => h.queue.enqueue(typed, { when: new Date(0) as Any }), 'INVALID_PAYLOAD', 'when')
    })
  })
}
