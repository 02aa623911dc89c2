import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, useHarness } from '../helpers.js'

const mail = defineJob<{ to: string }>({ kind: 'mail' })
const resize = defineJob<{ file: string }>({ kind: 'resize' })

async function ids(h: Harness, ...args: Parameters<Harness['queue']['listJobs']>): Promise<string[]> {
  return (await h.queue.listJobs(...args)).map((j) => j.id)
}

/** listJobs: filters and keyset pagination, newest first. */
export default function listJobsCases(factory: HarnessFactory): void {
  describe('listJobs', () => {
    const open = useHarness(factory)

    it('refuses ids beyond the largest job id (a bigint) with the same typed error everywhere', async () => {
      const h = await open()
      const tooLarge = '9223372036854775808'
      await expectError(() => h.queue.getJob(tooLarge), 'INVALID_ARGUMENT', 'job id')
      await expectError(() => h.queue.listJobs({}, { beforeId: tooLarge }), 'INVALID_ARGUMENT', 'beforeId')
      await expectError(() => h.queue.listJobs({ ids: [tooLarge] }), 'INVALID_ARGUMENT')
      await expectError(() => h.queue.updateJob(tooLarge, { priority: 1 }), 'INVALID_ARGUMENT')
      expect(await h.queue.getJob('9223372036854775807')).toBeNull()
    })

    it('lists newest first', async () => {
      const h = await open()
      const a = await h.queue.enqueue(mail, { to: 'a' })
      const b = await h.queue.enqueue(mail, { to: 'b' })
      const c = await h.queue.enqueue(mail, { to: 'c' })
      expect(await ids(h)).toEqual([c.id, b.id, a.id])
    })

    it('pages with a keyset cursor until exhausted, without gaps or repeats', async () => {
      const h = await open()
      const all: string[] = []
      for (let i = 0; i < 7; i++) all.unshift((await h.queue.enqueue(mail, { to: String(i) })).id)
      const seen: string[] = []
      let beforeId: string | undefined
      for (let page = 0; page < 10; page++) {
        const got = await ids(h, {}, { limit: 3, ...(beforeId ? { beforeId } : {}) })
        if (got.length === 0) break
        expect(got.length).toBeLessThanOrEqual(3)
        seen.push(...got)
        beforeId = got.at(-1)
      }
      expect(seen).toEqual(all)
    })

    it('pages within a filter', async () => {
      const h = await open()
      const mails: string[] = []
      for (let i = 0; i < 4; i++) {
        mails.unshift((await h.queue.enqueue(mail, { to: String(i) })).id)
        await h.queue.enqueue(resize, { file: String(i) })
      }
      const first = await ids(h, { kind: 'mail' }, { limit: 2 })
      const second = await ids(h, { kind: 'mail' }, { limit: 2, beforeId: first[1]! })
      expect([...first, ...second]).toEqual(mails)
    })

    it('limits to 100 by default', async () => {
      const h = await open()
      await h.queue.enqueueMany(
        Array.from({ length: 120 }, (_, i) => ({ job: mail, payload: { to: String(i) } })),
      )
      expect(await h.queue.listJobs()).toHaveLength(100)
      expect(await h.queue.listJobs({}, { limit: 500 })).toHaveLength(120)
    })

    it('filters by queue, kind and states', async () => {
      const h = await open()
      const a = await h.queue.enqueue(mail, { to: 'a' }, { queue: 'q1' })
      const b = await h.queue.enqueue(resize, { file: 'b' }, { queue: 'q1', delayMs: 1000 })
      const c = await h.queue.enqueue(mail, { to: 'c' }, { queue: 'q2' })
      expect(await ids(h, { queue: 'q1' })).toEqual([b.id, a.id])
      expect(await ids(h, { kind: 'mail' })).toEqual([c.id, a.id])
      expect(await ids(h, { states: ['scheduled'] })).toEqual([b.id])
      expect(await ids(h, { states: ['scheduled', 'available'], queue: 'q2' })).toEqual([c.id])
      expect(await ids(h, { states: [] })).toEqual([])
    })

    it('filters by case-insensitive text in the payload', async () => {
      const h = await open()
      const a = await h.queue.enqueue(mail, { to: 'Alice@Example.com' })
      await h.queue.enqueue(mail, { to: 'bob@example.org' })
      expect(await ids(h, { payloadContains: 'alice@example' })).toEqual([a.id])
      expect(await ids(h, { payloadContains: 'EXAMPLE' })).toHaveLength(2)
      expect(await ids(h, { payloadContains: 'carol' })).toEqual([])
    })

    it('filters by ids, group key and unique key', async () => {
      const h = await open()
      const a = await h.queue.enqueue(mail, { to: 'a' }, { groupKey: 'g1', uniqueKey: 'u1' })
      const b = await h.queue.enqueue(mail, { to: 'b' }, { groupKey: 'g1' })
      const c = await h.queue.enqueue(mail, { to: 'c' }, { uniqueKey: 'u2' })
      expect(await ids(h, { ids: [a.id, c.id] })).toEqual([c.id, a.id])
      expect(await ids(h, { groupKey: 'g1' })).toEqual([b.id, a.id])
      expect(await ids(h, { uniqueKey: 'u2' })).toEqual([c.id])
      expect(await ids(h, { ids: [] })).toEqual([])
    })

    it('filters by creation time', async () => {
      const h = await open()
      const a = await h.queue.enqueue(mail, { to: 'a' })
      h.clock.advance(1000)
      const b = await h.queue.enqueue(mail, { to: 'b' })
      h.clock.advance(1000)
      const c = await h.queue.enqueue(mail, { to: 'c' })
      expect(await ids(h, { createdAfter: T0 + 500 })).toEqual([c.id, b.id])
      expect(await ids(h, { createdBefore: T0 + 1500 })).toEqual([b.id, a.id])
      expect(await ids(h, { createdAfter: T0 + 500, createdBefore: T0 + 1500 })).toEqual([b.id])
    })

    it('filters by schedule name', async () => {
      const h = await open()
      await h.queue.schedule('@every 1 minute', mail, { to: 'sched' }, { name: 'digest' })
      await h.queue.enqueue(mail, { to: 'manual' })
      h.clock.advance(60_000)
      await h.queue.drain()
      const listed = await h.queue.listJobs({ scheduleName: 'digest' })
      expect(listed.map((j) => j.payload)).toEqual([{ to: 'sched' }])
    })

    it('returns full job records', async () => {
      const h = await open()
      const r = await h.queue.enqueue(mail, { to: 'a' }, { tags: ['t'], metadata: { m: 1 } })
      const [listed] = await h.queue.listJobs()
      expect(listed).toEqual(await h.queue.getJob(r.id))
    })

    it('rejects invalid filters and page options', async () => {
      const h = await open()
      await expectError(() => h.queue.listJobs({ kinds: ['x'] } as never), 'INVALID_ARGUMENT', '"kinds"')
      await expectError(() => h.queue.listJobs({ states: ['done'] as never }), 'INVALID_ARGUMENT', 'states')
      await expectError(
        () => h.queue.listJobs({ createdAfter: 'yesterday' } as never),
        'INVALID_ARGUMENT',
        'createdAfter',
      )
      await expectError(() => h.queue.listJobs({}, { limit: 0 }), 'INVALID_ARGUMENT', 'limit')
      await expectError(() => h.queue.listJobs({}, { limit: 10_001 }), 'INVALID_ARGUMENT', 'limit')
    })

    it('rejects a cursor that is not a job id', async () => {
      const h = await open()
      await h.queue.enqueue(mail, { to: 'a' })
      await expectError(() => h.queue.listJobs({}, { beforeId: 'abc' }), 'INVALID_ARGUMENT', 'beforeId')
    })

    it('getJob rejects an id that is not a job id', async () => {
      const h = await open()
      await expectError(() => h.queue.getJob('abc'), 'INVALID_ARGUMENT', 'id')
      await expectError(() => h.queue.getJob(42 as never), 'INVALID_ARGUMENT', 'id')
    })
  })
}
