import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const sendEmail = defineJob<{ to: string }>({ kind: 'send-email' })
const report = defineJob<{ n: number }>({
  kind: 'report',
  queue: 'reports',
  priority: 7,
  maxAttempts: 4,
  timeoutMs: 30_000,
  weight: 2,
})

/** Enqueue: stored fields, defaults, overrides, delays and run-at. */
export default function enqueueCases(factory: HarnessFactory): void {
  describe('enqueue', () => {
    const open = useHarness(factory)

    it('stores a job as available with the definition defaults', async () => {
      const h = await open()
      const r = await h.queue.enqueue(sendEmail, { to: 'a@b.c' })
      expect(r).toMatchObject({
        kind: 'send-email',
        queue: 'default',
        state: 'available',
        runAt: T0,
        duplicate: false,
      })
      expect(await job(h, r.id)).toMatchObject({
        id: r.id,
        kind: 'send-email',
        queue: 'default',
        state: 'available',
        payload: { to: 'a@b.c' },
        priority: 0,
        attempt: 0,
        maxAttempts: 25,
        timeoutMs: 0,
        weight: 1,
        uniqueKey: null,
        groupKey: null,
        dependsOn: [],
        metadata: {},
        tags: [],
        workflowState: null,
        createdAt: T0,
        runAt: T0,
        errors: [],
        attemptedAt: null,
        finishedAt: null,
        scheduleName: null,
        scheduleTick: null,
      })
    })

    it('stores a delayed job as scheduled at now + delay', async () => {
      const h = await open()
      const r = await h.queue.enqueue(sendEmail, { to: 'a@b.c' }, { delayMs: 5000 })
      expect(r.state).toBe('scheduled')
      expect(r.runAt).toBe(T0 + 5000)
      expect(await job(h, r.id)).toMatchObject({ state: 'scheduled', runAt: T0 + 5000, createdAt: T0 })
    })

    it('stores a job with a future runAt (Date or epoch ms) as scheduled at that time', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sendEmail, { to: 'a' }, { runAt: new Date(T0 + 60_000) })
      const b = await h.queue.enqueue(sendEmail, { to: 'b' }, { runAt: T0 + 120_000 })
      expect(a).toMatchObject({ state: 'scheduled', runAt: T0 + 60_000 })
      expect(b).toMatchObject({ state: 'scheduled', runAt: T0 + 120_000 })
    })

    it('stores a job whose runAt is now or past as available', async () => {
      const h = await open()
      const now = await h.queue.enqueue(sendEmail, { to: 'a' }, { runAt: T0 })
      const past = await h.queue.enqueue(sendEmail, { to: 'b' }, { runAt: T0 - 60_000 })
      expect(now.state).toBe('available')
      expect(past.state).toBe('available')
    })

    it('applies the definition defaults for queue, priority, attempts, timeout and weight', async () => {
      const h = await open()
      const r = await h.queue.enqueue(report, { n: 1 })
      expect(r.queue).toBe('reports')
      expect(await job(h, r.id)).toMatchObject({
        queue: 'reports',
        priority: 7,
        maxAttempts: 4,
        timeoutMs: 30_000,
        weight: 2,
      })
    })

    it('lets enqueue options override every definition default', async () => {
      const h = await open()
      const r = await h.queue.enqueue(
        report,
        { n: 1 },
        { queue: 'urgent', priority: -3, maxAttempts: 9, timeoutMs: 1000, weight: 5 },
      )
      expect(await job(h, r.id)).toMatchObject({
        queue: 'urgent',
        priority: -3,
        maxAttempts: 9,
        timeoutMs: 1000,
        weight: 5,
      })
    })

    it('stores unique key, group key, metadata, tags and initial workflow state', async () => {
      const h = await open()
      const r = await h.queue.enqueue(
        sendEmail,
        { to: 'a' },
        {
          uniqueKey: 'u-1',
          groupKey: 'g-1',
          metadata: { tenant: 'acme', nested: { n: [1, 2] } },
          tags: ['billing', 'eu'],
          state: { step: 2 },
        },
      )
      expect(await job(h, r.id)).toMatchObject({
        uniqueKey: 'u-1',
        groupKey: 'g-1',
        metadata: { tenant: 'acme', nested: { n: [1, 2] } },
        tags: ['billing', 'eu'],
        workflowState: { step: 2 },
      })
    })

    it('keeps nested payloads intact (unicode, nulls, deep arrays)', async () => {
      const h = await open()
      const payload = {
        text: 'héllo ✓ 日本',
        empty: '',
        zero: 0,
        neg: -1.5,
        flag: false,
        none: null,
        deep: [[{ a: [1] }]],
      }
      const def = defineJob<typeof payload>({ kind: 'rich' })
      const r = await h.queue.enqueue(def, payload)
      expect((await job(h, r.id)).payload).toEqual(payload)
    })

    it('stores a copy: mutating the payload after enqueue does not change the job', async () => {
      const h = await open()
      const payload = { to: 'a@b.c', list: [1, 2] }
      const def = defineJob<typeof payload>({ kind: 'copy' })
      const r = await h.queue.enqueue(def, payload)
      payload.to = 'changed'
      payload.list.push(3)
      expect((await job(h, r.id)).payload).toEqual({ to: 'a@b.c', list: [1, 2] })
    })

    it('gives each job a distinct decimal id, increasing in enqueue order', async () => {
      const h = await open()
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await h.queue.enqueue(sendEmail, { to: String(i) })).id)
      for (const id of ids) expect(id).toMatch(/^[1-9][0-9]*$/)
      expect(new Set(ids).size).toBe(5)
      const asBig = ids.map((id) => BigInt(id))
      for (let i = 1; i < asBig.length; i++) expect(asBig[i]! > asBig[i - 1]!).toBe(true)
    })

    it('returns null for an id that does not exist', async () => {
      const h = await open()
      expect(await h.queue.getJob('999999')).toBeNull()
    })

    it('emits an enqueued event with the stored job', async () => {
      const h = await open()
      const seen: { id: string; duplicate: boolean; payload: unknown }[] = []
      h.queue.on('enqueued', (e) =>
        seen.push({ id: e.job.id, duplicate: e.duplicate, payload: e.job.payload }),
      )
      const r = await h.queue.enqueue(sendEmail, { to: 'x' })
      expect(seen).toEqual([{ id: r.id, duplicate: false, payload: { to: 'x' } }])
    })

    it('enqueues jobs of a kind that has no handler in this process (producers need none)', async () => {
      const h = await open()
      const r = await h.queue.enqueue(defineJob({ kind: 'handled-elsewhere' }), { a: 1 })
      expect(r.state).toBe('available')
      const result = await h.queue.drain()
      expect(result.total).toBe(0)
      expect((await job(h, r.id)).state).toBe('available')
    })
  })
}
