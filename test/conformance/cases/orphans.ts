import { describe, expect, it } from 'vitest'
import type { QueueEvents } from '../../../src/core/domain/events.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, useHarness, waitWhileTicking } from '../helpers.js'

const served = defineJob<{ n: number }>({ kind: 'served' })
const unserved = defineJob<{ n: number }>({ kind: 'unserved' })
const mailed = defineJob<{ n: number }>({ kind: 'mailed', queue: 'mail' })

/**
 * Orphans: due jobs and schedules of a queue and kind that no live process serves (registered the
 * kind and runs a worker for the queue): cuckmq's WORKER_JOB_ORPHAN and schedule orphan.
 */
export default function orphanCases(factory: HarnessFactory): void {
  describe('orphans', () => {
    const open = useHarness(factory)

    it('drain reports the due jobs it leaves of kinds nobody registered, by queue and kind', async () => {
      const h = await open()
      h.queue.register(served, () => undefined)
      const orphaned: QueueEvents['orphaned'][] = []
      h.queue.on('orphaned', (e) => orphaned.push(e))
      await h.queue.enqueue(served, { n: 1 })
      await h.queue.enqueue(unserved, { n: 1 })
      h.clock.advance(10)
      await h.queue.enqueue(unserved, { n: 2 })
      await h.queue.enqueue(mailed, { n: 1 })
      await h.queue.enqueue(unserved, { n: 3 }, { delayMs: 60_000 }) // not due: not an orphan yet
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
      expect(orphaned).toEqual([
        { queue: 'default', kind: 'unserved', count: 2, oldestRunAt: T0 },
        { queue: 'mail', kind: 'mailed', count: 1, oldestRunAt: T0 + 10 },
      ])
    })

    it('drain reports a schedule whose kind nobody registered (its tick job waits as an orphan)', async () => {
      const h = await open()
      h.queue.register(served, () => undefined)
      const seen: string[] = []
      h.queue.on('scheduleOrphaned', (e) => seen.push(`schedule ${e.schedule.name}`))
      h.queue.on('orphaned', (e) => seen.push(`jobs ${e.kind} ${e.count}`))
      await h.queue.schedule('@every 1 minute', unserved, { n: 1 }, { name: 'lonely' })
      await h.queue.schedule('@every 1 minute', served, { n: 1 }, { name: 'fine' })
      h.clock.advance(60_000)
      await h.queue.drain()
      expect(seen).toEqual(['jobs unserved 1', 'schedule lonely'])
      const [tick] = await h.queue.listJobs({ scheduleName: 'lonely' })
      expect(tick?.state).toBe('available')
    })

    it('findOrphans counts this queue’s own kinds only once it is started', async () => {
      const h = await open()
      h.queue.register(served, () => undefined)
      await h.queue.pauseQueue('default') // nothing runs: the jobs stay orphans or not
      await h.queue.enqueue(served, { n: 1 })
      await h.queue.enqueue(unserved, { n: 1 })
      const before = await h.queue.findOrphans()
      expect(before.jobs.map((g) => [g.kind, g.count])).toEqual([
        ['served', 1],
        ['unserved', 1],
      ])
      await h.queue.start()
      const after = await h.queue.findOrphans()
      expect(after).toEqual({
        jobs: [{ queue: 'default', kind: 'unserved', count: 1, oldestRunAt: T0 }],
        schedules: [],
      })
    })

    it('reports the jobs of a kind registered here in a queue none of its workers serves, not those in a served queue', async () => {
      // `served` waits in `default` (its definition's queue), but this queue's only worker serves `mail`.
      const h = await open({ queues: { mail: { concurrency: 1 } } })
      h.queue.register(served, () => undefined)
      await h.queue.pauseQueue('mail') // nothing runs: the jobs stay orphans or not
      await h.queue.enqueue(served, { n: 1 })
      await h.queue.enqueue(served, { n: 2 }, { queue: 'mail' })
      await h.queue.schedule('@every 1 minute', served, { n: 3 }, { name: 'to-default' })
      await h.queue.schedule('@every 1 minute', served, { n: 4 }, { name: 'to-mail', queue: 'mail' })
      await h.queue.start()
      const report = await h.queue.findOrphans()
      expect(report.jobs).toEqual([{ queue: 'default', kind: 'served', count: 1, oldestRunAt: T0 }])
      expect(report.schedules.map((s) => s.name)).toEqual(['to-default'])
    })

    it('drain reports the due jobs of its kinds in queues it did not drain', async () => {
      const h = await open()
      h.queue.register(served, () => undefined)
      const orphaned: QueueEvents['orphaned'][] = []
      h.queue.on('orphaned', (e) => orphaned.push(e))
      await h.queue.enqueue(served, { n: 1 }, { queue: 'mail' })
      await h.queue.enqueue(served, { n: 2 })
      expect(await h.queue.drain({ queues: ['default'] })).toMatchObject({ succeeded: 1 })
      expect(orphaned).toEqual([{ queue: 'mail', kind: 'served', count: 1, oldestRunAt: T0 }])
    })

    it('a started queue checks every orphans.intervalMs and reports on orphaned', async () => {
      const h = await open({ orphans: { intervalMs: 5000 }, maintenance: { heartbeatIntervalMs: 1000 } })
      h.queue.register(served, () => undefined)
      const orphaned: QueueEvents['orphaned'][] = []
      h.queue.on('orphaned', (e) => orphaned.push(e))
      await h.queue.enqueue(unserved, { n: 1 })
      await h.queue.start()
      const first = await waitWhileTicking(h, () => orphaned[0])
      expect(first).toMatchObject({ queue: 'default', kind: 'unserved', count: 1 })
    })

    it('with orphans.failAfterMs, fails orphans past the grace period (discarded, OrphanedJob error) and leaves the rest', async () => {
      const h = await open({
        orphans: { intervalMs: 1000, failAfterMs: 30_000 },
        maintenance: { heartbeatIntervalMs: 1000 },
      })
      h.queue.register(served, () => undefined)
      await h.queue.pauseQueue('default')
      const discarded: QueueEvents['discarded'][] = []
      h.queue.on('discarded', (e) => discarded.push(e))
      const orphan = await h.queue.enqueue(unserved, { n: 1 })
      const kept = await h.queue.enqueue(served, { n: 1 })
      await h.queue.start()
      h.clock.advance(20_000)
      const failed = await waitWhileTicking(h, async () => {
        const job = await h.queue.getJob(orphan.id)
        return job?.state === 'failed' ? job : null
      })
      expect(h.clock.now() - T0).toBeGreaterThanOrEqual(30_000)
      expect(failed.errors).toEqual([
        {
          attempt: 0,
          at: failed.finishedAt,
          name: 'OrphanedJob',
          message:
            'No live process ran a worker for queue "default" with a handler for kind "unserved" for 30000 ms (orphans.failAfterMs); register the kind in a process with a worker for that queue, then retry the job.',
        },
      ])
      expect(discarded.map((e) => [e.job.id, e.error.name])).toEqual([[orphan.id, 'OrphanedJob']])
      expect((await h.queue.getJob(kept.id))?.state).toBe('available')
    })

    it('with orphans.failAfterMs, fails the jobs of a kind registered here in a queue no worker serves, not those in a served queue', async () => {
      const h = await open({
        queues: { mail: { concurrency: 1 } },
        orphans: { intervalMs: 1000, failAfterMs: 30_000 },
        maintenance: { heartbeatIntervalMs: 1000 },
      })
      h.queue.register(served, () => undefined)
      await h.queue.pauseQueue('mail')
      const orphan = await h.queue.enqueue(served, { n: 1 })
      const kept = await h.queue.enqueue(served, { n: 2 }, { queue: 'mail' })
      await h.queue.start()
      const failed = await waitWhileTicking(h, async () => {
        const job = await h.queue.getJob(orphan.id)
        return job?.state === 'failed' ? job : null
      })
      expect(failed.errors).toEqual([
        {
          attempt: 0,
          at: failed.finishedAt,
          name: 'OrphanedJob',
          message:
            'No live process ran a worker for queue "default" with a handler for kind "served" for 30000 ms (orphans.failAfterMs); register the kind in a process with a worker for that queue, then retry the job.',
        },
      ])
      expect((await h.queue.getJob(kept.id))?.state).toBe('available')
    })

    it('refuses bad orphans options with a message naming the field', async () => {
      await expectError(
        () => open({ orphans: { failAfterMs: 0 } }),
        'INVALID_ARGUMENT',
        'orphans.failAfterMs',
      )
      await expectError(() => open({ orphans: { intervalMs: -1 } }), 'INVALID_ARGUMENT', 'orphans.intervalMs')
      await expectError(
        () => open({ orphans: { failAfter: 1000 } as never }),
        'INVALID_ARGUMENT',
        'failAfter',
      )
      await expectError(
        () => open({ orphans: null as never }),
        'INVALID_ARGUMENT',
        'orphans must be an object',
      )
      const h = await open({ orphans: { failAfterMs: null, intervalMs: 1 } }) // null: never fail (the default)
      expect(await h.queue.findOrphans()).toEqual({ jobs: [], schedules: [] })
    })
  })
}
