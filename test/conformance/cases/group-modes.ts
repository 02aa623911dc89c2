import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { expectError, gate, job, useHarness, waitWhileTicking } from '../helpers.js'

const step = defineJob<{ name: string; fail?: boolean }>({ kind: 'group-mode-step' })
const released = defineJob<{ name: string }>({ kind: 'group-mode-released', groupMode: 'release' })

/** Group modes (`fifo`, `release`) and group lock timeouts, through the queue (cuckmq's job groups). */
export default function groupModeCases(factory: HarnessFactory): void {
  describe('group modes and group lock timeouts', () => {
    const open = useHarness(factory)

    it("release: a failed job waits out its backoff without holding its group (cuckmq: the lock is released whatever the run's outcome)", async () => {
      const h = await open({ random: () => 0.5 })
      const order: string[] = []
      h.queue.register(step, ({ name, fail }, ctx) => {
        order.push(name)
        if (fail && ctx.attempt === 1) throw new Error('first attempt fails')
      })
      const options = { groupKey: 'g', groupMode: 'release' } as const
      const head = await h.queue.enqueue(step, { name: 'head', fail: true }, options)
      await h.queue.enqueue(step, { name: 'next' }, options)
      await h.queue.drain()
      expect(order).toEqual(['head', 'next'])
      expect((await job(h, head.id)).state).toBe('retryable')
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual(['head', 'next', 'head'])
    })

    it('groupReleased: after every run in release mode, only after a final outcome in fifo (cuckmq ORCHESTRATOR_JOB_GROUP_DELETE)', async () => {
      const h = await open({ random: () => 0.5 })
      const seen: { groupKey: string; id: string; outcome: string }[] = []
      h.queue.on('groupReleased', (e) =>
        seen.push({ groupKey: e.groupKey, id: e.job.id, outcome: e.outcome }),
      )
      h.queue.register(step, ({ fail }, ctx) => {
        if (fail && ctx.attempt === 1) throw new Error('first attempt fails')
      })
      const r = await h.queue.enqueue(
        step,
        { name: 'r', fail: true },
        { groupKey: 'rel', groupMode: 'release' },
      )
      const f = await h.queue.enqueue(step, { name: 'f', fail: true }, { groupKey: 'fifo' })
      const plain = await h.queue.enqueue(step, { name: 'plain' })
      await h.queue.drain()
      // The release job's failed attempt frees its group; the fifo job's holds it through the backoff.
      expect(seen).toEqual([{ groupKey: 'rel', id: r.id, outcome: 'retry' }])
      h.clock.advance(1000)
      await h.queue.drain()
      expect(seen).toEqual([
        { groupKey: 'rel', id: r.id, outcome: 'retry' },
        { groupKey: 'rel', id: r.id, outcome: 'succeeded' },
        { groupKey: 'fifo', id: f.id, outcome: 'succeeded' },
      ])
      expect(seen.some((e) => e.id === plain.id)).toBe(false)
    })

    it('fifo (the default) still holds the group through the backoff', async () => {
      const h = await open({ random: () => 0.5 })
      const order: string[] = []
      h.queue.register(step, ({ name, fail }, ctx) => {
        order.push(name)
        if (fail && ctx.attempt === 1) throw new Error('first attempt fails')
      })
      await h.queue.enqueue(step, { name: 'head', fail: true }, { groupKey: 'g', groupMode: 'fifo' })
      await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.drain()
      expect(order).toEqual(['head'])
    })

    it('the mode is set on the definition or per job, and stored with the job', async () => {
      const h = await open()
      const a = await h.queue.enqueue(released, { name: 'a' }, { groupKey: 'g' })
      const b = await h.queue.enqueue(released, { name: 'b' }, { groupKey: 'g', groupMode: 'fifo' })
      const c = await h.queue.enqueue(step, { name: 'c' }, { groupKey: 'g', groupLockTimeoutMs: 60_000 })
      const d = await h.queue.enqueue(released, { name: 'd' })
      expect(await job(h, a.id)).toMatchObject({ groupMode: 'release', groupLockTimeoutMs: null })
      expect(await job(h, b.id)).toMatchObject({ groupMode: 'fifo' })
      expect(await job(h, c.id)).toMatchObject({ groupMode: 'fifo', groupLockTimeoutMs: 60_000 })
      // Without a group the mode means nothing: the job is stored with the default.
      expect(await job(h, d.id)).toMatchObject({
        groupKey: null,
        groupMode: 'fifo',
        groupLockTimeoutMs: null,
      })
    })

    it('bad group options are refused with what to do', async () => {
      const h = await open()
      await expectError(
        () => h.queue.enqueue(step, { name: 'x' }, { groupKey: 'g', groupMode: 'lifo' as 'fifo' }),
        'INVALID_OPTIONS',
        "groupMode must be 'fifo'",
      )
      await expectError(
        () => h.queue.enqueue(step, { name: 'x' }, { groupMode: 'release' }),
        'INVALID_OPTIONS',
        'give groupKey too',
      )
      await expectError(
        () => h.queue.enqueue(step, { name: 'x' }, { groupKey: 'g', groupLockTimeoutMs: 0 }),
        'INVALID_OPTIONS',
        'groupLockTimeoutMs must be an integer',
      )
      await expectError(
        () =>
          h.queue.enqueue(step, { name: 'x' }, { groupKey: 'g', timeoutMs: 5000, groupLockTimeoutMs: 1000 }),
        'INVALID_OPTIONS',
        'at least 5000',
      )
      expect(() => defineJob({ kind: 'bad-mode', groupMode: 'strict' as 'fifo' })).toThrow(
        /groupMode must be/,
      )
      expect(() => defineJob({ kind: 'bad-lock', timeoutMs: 10_000, groupLockTimeoutMs: 500 })).toThrow(
        /at least 10000/,
      )
    })

    it('a job running past its group lock timeout no longer holds its group: the next one starts beside it', async () => {
      const h = await open({ queues: { default: { concurrency: 2 } } })
      const hold = gate()
      const started = new Set<string>()
      h.queue.register(step, async ({ name }) => {
        started.add(name)
        if (name === 'stuck') await hold.wait()
      })
      const stuck = await h.queue.enqueue(
        step,
        { name: 'stuck' },
        { groupKey: 'g', groupLockTimeoutMs: 5000 },
      )
      const next = await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.start()
      await waitWhileTicking(h, () => started.has('next'))
      const [held, after] = [await job(h, stuck.id), await job(h, next.id)]
      expect(held.state).toBe('running')
      expect(after.attemptedAt! - held.attemptedAt!).toBeGreaterThanOrEqual(5000)
      hold.open()
      await waitWhileTicking(
        h,
        async () => (await h.queue.listJobs({ states: ['succeeded'] }, { limit: 10 })).length === 2,
      )
    })
  })
}
