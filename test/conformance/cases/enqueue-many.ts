import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong values through the typed API.
type Any = any

/** Codes acceptable for a dependency on a job that does not exist. */
const UNKNOWN_DEPENDENCY_CODES = ['JOB_NOT_FOUND', 'INVALID_OPTIONS']

const sendEmail = defineJob({ kind: 'send-email', schema: z.object({ to: z.string().email() }) })
const resize = defineJob<{ w: number }>({ kind: 'resize', queue: 'media' })

/** enqueueMany: mixed kinds, result order, per-item options, all-or-nothing validation. */
export default function enqueueManyCases(factory: HarnessFactory): void {
  describe('enqueueMany', () => {
    const open = useHarness(factory)

    it('stores jobs of mixed kinds and returns results in input order', async () => {
      const h = await open()
      const results = await h.queue.enqueueMany([
        { job: sendEmail, payload: { to: 'a@b.co' } },
        { job: resize, payload: { w: 1 } },
        { job: sendEmail, payload: { to: 'd@e.fr' } },
      ])
      expect(results.map((r) => [r.kind, r.queue, r.duplicate])).toEqual([
        ['send-email', 'default', false],
        ['resize', 'media', false],
        ['send-email', 'default', false],
      ])
      expect((await job(h, results[0]!.id)).payload).toEqual({ to: 'a@b.co' })
      expect((await job(h, results[1]!.id)).payload).toEqual({ w: 1 })
      expect((await job(h, results[2]!.id)).payload).toEqual({ to: 'd@e.fr' })
    })

    it('assigns increasing ids in input order', async () => {
      const h = await open()
      const results = await h.queue.enqueueMany(
        Array.from({ length: 10 }, (_, i) => ({ job: resize, payload: { w: i } })),
      )
      const ids = results.map((r) => BigInt(r.id))
      for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true)
      expect(await h.queue.listJobs({}, { limit: 100 })).toHaveLength(10)
    })

    it('stores a large batch in one call', async () => {
      const h = await open()
      const results = await h.queue.enqueueMany(
        Array.from({ length: 1000 }, (_, i) => ({ job: resize, payload: { w: i } })),
      )
      expect(results).toHaveLength(1000)
      expect(new Set(results.map((r) => r.id)).size).toBe(1000)
      expect((await h.queue.stats()).find((s) => s.queue === 'media')?.counts.available).toBe(1000)
    })

    it('applies per-item options', async () => {
      const h = await open()
      const [a, b] = await h.queue.enqueueMany([
        { job: resize, payload: { w: 1 }, options: { delayMs: 1000, priority: 3 } },
        { job: resize, payload: { w: 2 }, options: { queue: 'other', tags: ['t'] } },
      ])
      expect(a).toMatchObject({ state: 'scheduled', runAt: T0 + 1000 })
      expect(await job(h, a!.id)).toMatchObject({ priority: 3 })
      expect(await job(h, b!.id)).toMatchObject({ queue: 'other', tags: ['t'], state: 'available' })
    })

    it('returns an empty array for no items and stores nothing', async () => {
      const h = await open()
      expect(await h.queue.enqueueMany([])).toEqual([])
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('stores nothing when one payload fails its schema, and names the item', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.enqueueMany([
            { job: sendEmail, payload: { to: 'a@b.co' } },
            { job: resize, payload: { w: 1 } },
            { job: sendEmail, payload: { to: 'broken' } },
          ]),
        'INVALID_PAYLOAD',
        'item 2',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('stores nothing when one payload is not JSON', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.enqueueMany([
            { job: resize, payload: { w: 1 } },
            { job: resize, payload: { w: Number.NaN } },
          ]),
        'INVALID_PAYLOAD',
        'item 1',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('stores nothing when one item has invalid options', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.enqueueMany([
            { job: resize, payload: { w: 1 } },
            { job: resize, payload: { w: 2 }, options: { priority: 1e6 } },
          ]),
        'INVALID_OPTIONS',
        'priority',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('stores nothing when one item is not a job definition', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.enqueueMany([
            { job: resize, payload: { w: 1 } },
            { job: 'resize' as Any, payload: { w: 2 } },
          ]),
        'INVALID_ARGUMENT',
        'item 1',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('stores nothing when a dependency id does not exist', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.enqueueMany([
            { job: resize, payload: { w: 1 } },
            { job: resize, payload: { w: 2 }, options: { dependsOn: '987654321' } },
          ]),
        UNKNOWN_DEPENDENCY_CODES,
        '987654321',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('rejects a non-array and items that are not objects', async () => {
      const h = await open()
      await expectError(() => h.queue.enqueueMany({ job: resize } as Any), 'INVALID_ARGUMENT', 'array')
      await expectError(() => h.queue.enqueueMany([null] as Any), 'INVALID_ARGUMENT', 'item 0')
    })

    it('refuses a transaction inside an item (it goes once, as the second argument)', async () => {
      const h = await open()
      const tx = { query: async () => ({ rows: [] }) }
      await expectError(
        () => h.queue.enqueueMany([{ job: resize, payload: { w: 1 }, options: { tx } as Any }]),
        'INVALID_ARGUMENT',
        'tx',
      )
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('deduplicates by unique key within one call, in input order', async () => {
      const h = await open()
      const [a, b, c] = await h.queue.enqueueMany([
        { job: resize, payload: { w: 1 }, options: { uniqueKey: 'k' } },
        { job: resize, payload: { w: 2 }, options: { uniqueKey: 'k' } },
        { job: resize, payload: { w: 3 }, options: { uniqueKey: 'other' } },
      ])
      expect(a!.duplicate).toBe(false)
      expect(b).toMatchObject({ duplicate: true, id: a!.id })
      expect(c!.duplicate).toBe(false)
      expect(await h.queue.listJobs()).toHaveLength(2)
    })

    it('emits one enqueued event per item', async () => {
      const h = await open()
      const kinds: string[] = []
      h.queue.on('enqueued', (e) => kinds.push(e.job.kind))
      await h.queue.enqueueMany([
        { job: resize, payload: { w: 1 } },
        { job: sendEmail, payload: { to: 'a@b.co' } },
      ])
      expect(kinds).toEqual(['resize', 'send-email'])
    })
  })
}
