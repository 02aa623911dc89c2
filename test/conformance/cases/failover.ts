import { describe, expect, it } from 'vitest'
import type { JobRecord } from '../../../src/core/domain/job.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { HarnessFactory } from '../harness.js'
import { job, useHarness, waitWhileTicking } from '../helpers.js'

const task = defineJob<{ n: number }>({ kind: 'failover-task', timeoutMs: 2000, maxAttempts: 3 })

/**
 * Failover at max execution time (perseid: a task whose scheduler crashed is marked failed a minute
 * after its maximum execution time): a job another process claimed and never finished is rescued
 * once its timeout plus `maintenance.timeoutRescueMarginMs` has passed, though that process heartbeats.
 */
export default function failoverCases(factory: HarnessFactory): void {
  describe('failover at max execution time', () => {
    const open = useHarness(factory)

    it('a job stuck on a live process past its timeout plus the margin is rescued as a timed-out attempt and runs again', async () => {
      const h = await open({
        maintenance: { rescueIntervalMs: 1000, rescueAfterMs: 3_600_000, timeoutRescueMarginMs: 5000 },
      })
      const rescued: JobRecord[] = []
      h.queue.on('rescued', ({ job: j }) => rescued.push(j))
      const runs: number[] = []
      h.queue.register(task, (_payload, ctx) => {
        runs.push(ctx.attempt)
      })
      const { id } = await h.queue.enqueue(task, { n: 1 })
      // Another process's worker takes the job and hangs; that process keeps heartbeating.
      const claimedAt = h.clock.now()
      await h.queue.store.recordHeartbeat({ processId: 'stuck', now: claimedAt })
      const [claimed] = await h.queue.store.claimJobs({
        queues: ['default'],
        kinds: [task.kind],
        capacity: 1,
        strategy: 'priority',
        workerId: 'stuck:w',
        now: claimedAt,
      })
      expect(claimed?.id).toBe(id)
      await h.queue.start()
      // The rescued job can run again and succeed before the rescue pass reports it: the Postgres
      // store finishes its pass (history, dependants, group holds) after the rescue commits and wakes
      // the workers, so wait for both.
      await waitWhileTicking(h, async () => rescued.length > 0 && (await job(h, id)).state === 'succeeded')
      expect(runs).toEqual([2])
      expect(rescued.map((j) => j.id)).toEqual([id])
      const done = await job(h, id)
      expect(done.attempt).toBe(2)
      expect(done.errors).toHaveLength(1)
      expect(done.errors[0]).toMatchObject({ attempt: 1, name: 'JobTimeoutError' })
      expect(done.errors[0]!.at).toBeGreaterThanOrEqual(claimedAt + 2000 + 5000)
    })

    it('a process restarted with the processId of its crashed run rescues the jobs that run was running', async () => {
      // The crashed run: it heartbeat and claimed the job as "host" (the id a run of this process had
      // before runs got a suffix), then died. Its job has no timeout, so only a silent process frees it.
      const h = await open({
        processId: 'host',
        maintenance: { heartbeatIntervalMs: 1000, rescueIntervalMs: 1000, rescueAfterMs: 5000 },
      })
      const untimed = defineJob<{ n: number }>({ kind: 'restart-task' })
      const runs: string[] = []
      h.queue.register(untimed, (_payload, ctx) => {
        runs.push(`${ctx.attempt}`)
      })
      const { id } = await h.queue.enqueue(untimed, { n: 1 })
      const claimedAt = h.clock.now()
      await h.queue.store.recordHeartbeat({ processId: 'host', now: claimedAt })
      const [claimed] = await h.queue.store.claimJobs({
        queues: ['default'],
        kinds: [untimed.kind],
        capacity: 1,
        strategy: 'priority',
        workerId: 'host:default',
        now: claimedAt,
      })
      expect(claimed?.id).toBe(id)
      // The restart, with the same processId option: its heartbeats must not keep the dead run alive.
      await h.queue.start()
      await waitWhileTicking(h, async () => (await job(h, id)).state === 'succeeded')
      const done = await job(h, id)
      expect(runs).toEqual(['2'])
      expect(done.errors).toEqual([expect.objectContaining({ attempt: 1, name: 'WorkerDied' })])
      expect(done.attemptedBy).toMatch(/^host-[0-9a-f]{6}:default$/)
    })

    it('maintenance.timeoutRescueMarginMs is validated', async () => {
      await expect(open({ maintenance: { timeoutRescueMarginMs: -1 } })).rejects.toThrow(
        /maintenance.timeoutRescueMarginMs must be an integer from 0/,
      )
    })
  })
}
