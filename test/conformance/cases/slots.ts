import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { expectError, settle, useHarness, waitWhileTicking } from '../helpers.js'

const heavy = defineJob<{ n: number }>({ kind: 'slots-heavy', weight: 3 })
const light = defineJob<{ n: number }>({ kind: 'slots-light' })

async function succeeded(h: Harness): Promise<number> {
  return (await h.queue.listJobs({ states: ['succeeded'] }, { limit: 100 })).length
}

/** Workers that refuse jobs heavier than their capacity (perseid's slots). */
export default function slotCases(factory: HarnessFactory): void {
  describe("slots: oversized: 'refuse'", () => {
    const open = useHarness(factory)

    function record(h: Harness): string[] {
      const ran: string[] = []
      const handler = async (
        { n }: { n: number },
        ctx: { job: { kind: string; attemptedBy: string | null } },
      ) => {
        ran.push(`${ctx.job.kind}-${n}@${(ctx.job.attemptedBy ?? '').split(':')[1]}`)
      }
      h.queue.register(heavy, handler)
      h.queue.register(light, handler)
      return ran
    }

    it('a worker with less capacity than a job never runs it, and lighter jobs behind it still run', async () => {
      const h = await open({
        workers: [{ name: 'small', queues: ['default'], concurrency: 2, oversized: 'refuse' }],
      })
      const ran = record(h)
      const big = await h.queue.enqueue(heavy, { n: 1 })
      await h.queue.enqueue(light, { n: 2 })
      await h.queue.enqueue(light, { n: 3 })
      await h.queue.start()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 2)
      await settle()
      h.clock.advance(5000)
      await settle()
      expect(ran).toEqual(['slots-light-2@small', 'slots-light-3@small'])
      expect((await h.queue.getJob(big.id))?.state).toBe('available')
    })

    it('a worker with room for it runs it (the heavy job goes to the big worker)', async () => {
      const h = await open({
        oversized: 'refuse',
        workers: [
          { name: 'small', queues: ['default'], concurrency: 2 },
          { name: 'big', queues: ['default'], concurrency: 4 },
        ],
      })
      const ran = record(h)
      await h.queue.enqueue(heavy, { n: 1 })
      await h.queue.start()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 1)
      expect(ran).toEqual(['slots-heavy-1@big'])
      // The process recorded what its workers can take (what an operator needs to see which jobs
      // no live worker will run).
      const processes = await h.queue.store.listProcesses({ now: h.clock.now(), liveWithinMs: 60_000 })
      expect(processes.flatMap((p) => p.workers ?? [])).toEqual([
        { queues: ['default'], capacity: 2, oversized: 'refuse' },
        { queues: ['default'], capacity: 4, oversized: 'refuse' },
      ])
    })

    it('an unknown oversized policy is refused', async () => {
      await expectError(
        () => open({ oversized: 'never' as 'refuse' }),
        'INVALID_ARGUMENT',
        "oversized must be 'alone'",
      )
      await expectError(
        () => open({ workers: [{ queues: ['default'], oversized: 1 as unknown as 'refuse' }] }),
        'INVALID_ARGUMENT',
        'workers[0].oversized',
      )
    })
  })
}
