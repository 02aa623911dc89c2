import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { JsonValue } from '../../../src/core/domain/json.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong filters through the typed API.
type Any = any

const order = defineJob<JsonValue>({ kind: 'order' })

async function ids(h: Harness, payloadIncludes: JsonValue): Promise<string[]> {
  return (await h.queue.listJobs({ payloadIncludes })).map((j) => j.id)
}

/** The `payloadIncludes` filter: JSON containment as PostgreSQL's `jsonb @>` defines it. */
export default function payloadIncludesCases(factory: HarnessFactory): void {
  describe('payloadIncludes filter', () => {
    const open = useHarness(factory)

    /** Enqueues one job per payload; returns their ids in the same order. */
    async function seed(h: Harness, payloads: JsonValue[]): Promise<string[]> {
      const out: string[] = []
      for (const payload of payloads) out.push((await h.queue.enqueue(order, payload)).id)
      return out
    }

    it('matches objects containing the pattern, nested objects and arrays included', async () => {
      const h = await open()
      const [a, b, c, d] = await seed(h, [
        {
          customer: { id: 7, tier: 'gold' },
          items: [
            { sku: 'x', qty: 1 },
            { sku: 'y', qty: 2 },
          ],
        },
        { customer: { id: 8, tier: 'gold' }, items: [{ sku: 'y', qty: 1 }] },
        { customer: { id: 7 }, items: [], note: null },
        { customer: 7, items: 'x' },
      ])
      expect(await ids(h, { customer: { id: 7 } })).toEqual([c, a])
      expect(await ids(h, { customer: { tier: 'gold' } })).toEqual([b, a])
      expect(await ids(h, { items: [{ sku: 'y' }] })).toEqual([b, a])
      expect(await ids(h, { items: [{ sku: 'x' }, { qty: 2 }] })).toEqual([a])
      expect(await ids(h, { items: [] })).toEqual([c, b, a])
      expect(await ids(h, { note: null })).toEqual([c])
      expect(await ids(h, { customer: 7 })).toEqual([d])
      expect(await ids(h, { items: ['x'] })).toEqual([])
      expect(await ids(h, {})).toEqual([d, c, b, a])
      expect(await ids(h, { customer: { id: '7' } })).toEqual([])
      expect(await ids(h, { customer: { id: 7.0 } })).toEqual([c, a])
    })

    it('a top-level array payload contains a scalar pattern; scalars match only equal scalars', async () => {
      const h = await open()
      const [a, b, c, d] = await seed(h, [['red', 'green'], 'red', 42, [1, [2, 3]]])
      expect(await ids(h, 'red')).toEqual([b, a])
      expect(await ids(h, ['green'])).toEqual([a])
      expect(await ids(h, 42)).toEqual([c])
      expect(await ids(h, [[3]])).toEqual([d])
      expect(await ids(h, [3])).toEqual([])
      expect(await ids(h, [])).toEqual([d, a])
      expect(await ids(h, { red: true })).toEqual([])
    })

    it('combines with the other filter fields', async () => {
      const h = await open()
      const [a] = await seed(h, [{ shop: 's1' }, { shop: 's2' }])
      const r = await h.queue.enqueue(order, { shop: 's1' }, { queue: 'other' })
      expect(
        (await h.queue.listJobs({ payloadIncludes: { shop: 's1' }, queue: 'default' })).map((j) => j.id),
      ).toEqual([a])
      expect(
        (await h.queue.listJobs({ payloadIncludes: { shop: 's1' }, states: ['available'] })).map((j) => j.id),
      ).toEqual([r.id, a])
    })

    it('selects the jobs of cancelJobs, retryJobs and deleteJobs', async () => {
      const h = await open()
      const [a, b, c] = await seed(h, [
        { shop: 's1', n: 1 },
        { shop: 's2', n: 2 },
        { shop: 's1', n: 3 },
      ])
      expect(await h.queue.cancelJobs({ payloadIncludes: { shop: 's1' } })).toBe(2)
      expect((await job(h, a!)).state).toBe('cancelled')
      expect((await job(h, b!)).state).toBe('available')
      expect((await job(h, c!)).state).toBe('cancelled')
      expect(await h.queue.retryJobs({ payloadIncludes: { n: 3 }, states: ['cancelled'] })).toBe(1)
      expect((await job(h, c!)).state).toBe('available')
      expect(await h.queue.deleteJobs({ payloadIncludes: { shop: 's1' } })).toBe(2)
      expect(await h.queue.getJob(a!)).toBeNull()
      expect(await h.queue.getJob(c!)).toBeNull()
      expect((await job(h, b!)).state).toBe('available')
    })

    it('null is a pattern too (it is a criterion of a bulk action)', async () => {
      const h = await open()
      const [a, b] = await seed(h, [null, [null, 1], { x: null }])
      expect(await ids(h, null)).toEqual([b, a])
      expect(await h.queue.cancelJobs({ payloadIncludes: null })).toBe(2)
    })

    it('rejects a pattern that is not JSON', async () => {
      const h = await open()
      await expectError(
        () => h.queue.listJobs({ payloadIncludes: { at: new Date() } as Any }),
        'INVALID_ARGUMENT',
        'payloadIncludes',
      )
      await expectError(
        () => h.queue.listJobs({ payloadIncludes: Number.NaN as Any }),
        'INVALID_ARGUMENT',
        'payloadIncludes',
      )
      await expectError(
        () => h.queue.cancelJobs({ payloadIncludes: { f: () => 1 } as Any }),
        'INVALID_ARGUMENT',
        'payloadIncludes',
      )
      await expectError(
        () => h.queue.listJobs({ payloadIncludes: { s: 'a\u0000b' } }),
        'INVALID_ARGUMENT',
        'payloadIncludes',
      )
    })
  })
}
