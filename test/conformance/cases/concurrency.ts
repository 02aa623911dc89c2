import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import { type Harness, type HarnessFactory, T0 } from '../harness.js'
import { ConcurrencyProbe, gate, job, settle, useHarness, waitWhileTicking } from '../helpers.js'

const work = defineJob<{ n: number }>({ kind: 'work' })
const heavy = defineJob<{ n: number }>({ kind: 'heavy', weight: 3 })
const light = defineJob<{ n: number }>({ kind: 'light' })

async function succeeded(h: Harness): Promise<number> {
  return (await h.queue.listJobs({ states: ['succeeded'] }, { limit: 1000 })).length
}

/** Per-queue concurrency and weighted capacity with started workers. */
export default function concurrencyCases(factory: HarnessFactory): void {
  describe('concurrency and capacity', () => {
    const open = useHarness(factory)

    it('never runs more than the queue concurrency at once', async () => {
      const h = await open({ queues: { default: { concurrency: 3 } } })
      const probe = new ConcurrencyProbe()
      const hold = gate()
      h.queue.register(work, async () => {
        const leave = probe.enter()
        await hold.wait()
        leave()
      })
      for (let n = 0; n < 10; n++) await h.queue.enqueue(work, { n })
      await h.queue.start()
      await waitFor(() => probe.active === 3)
      await settle()
      expect(probe.active).toBe(3)
      hold.open()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 10)
      expect(probe.peak).toBe(3)
    })

    it('keeps the limit as slots free up one by one', async () => {
      const h = await open({ queues: { default: { concurrency: 2 } } })
      const probe = new ConcurrencyProbe()
      const gates: ReturnType<typeof gate>[] = []
      h.queue.register(work, async () => {
        const leave = probe.enter()
        const g = gate()
        gates.push(g)
        await g.wait()
        leave()
      })
      for (let n = 0; n < 6; n++) await h.queue.enqueue(work, { n })
      await h.queue.start()
      for (let i = 0; i < 6; i++) {
        await waitWhileTicking(h, () => gates.length > i)
        await settle()
        expect(probe.active).toBeLessThanOrEqual(2)
        gates[i]!.open()
      }
      await waitWhileTicking(h, async () => (await succeeded(h)) === 6)
      expect(probe.peak).toBe(2)
    })

    it('concurrency 1 runs jobs strictly one after another', async () => {
      const h = await open({ queues: { default: { concurrency: 1 } } })
      const probe = new ConcurrencyProbe()
      h.queue.register(work, async () => {
        const leave = probe.enter()
        await settle(2)
        leave()
      })
      for (let n = 0; n < 5; n++) await h.queue.enqueue(work, { n })
      await h.queue.start()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 5)
      expect(probe.peak).toBe(1)
    })

    it('each queue has its own limit', async () => {
      const h = await open({ queues: { default: { concurrency: 1 }, bulk: { concurrency: 2 } } })
      const probe = new ConcurrencyProbe()
      const hold = gate()
      h.queue.register(work, async (_p, ctx) => {
        const leave = probe.enter(ctx.job.queue)
        await hold.wait()
        leave()
      })
      for (let n = 0; n < 4; n++) await h.queue.enqueue(work, { n })
      for (let n = 0; n < 4; n++) await h.queue.enqueue(work, { n }, { queue: 'bulk' })
      await h.queue.start()
      await waitFor(() => probe.active === 3)
      await settle()
      expect(probe.activeByKey.get('default')).toBe(1)
      expect(probe.activeByKey.get('bulk')).toBe(2)
      hold.open()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 8)
      expect(probe.peakByKey.get('default')).toBe(1)
      expect(probe.peakByKey.get('bulk')).toBe(2)
    })

    it('a worker serves only its own queues', async () => {
      const h = await open({ workers: [{ name: 'mail-pool', queues: ['mail'], concurrency: 2 }] })
      const ran: string[] = []
      h.queue.register(work, (_p, ctx) => {
        ran.push(ctx.job.queue)
      })
      await h.queue.enqueue(work, { n: 1 }, { queue: 'mail' })
      const stray = await h.queue.enqueue(work, { n: 2 }, { queue: 'reports' })
      await h.queue.start()
      await waitWhileTicking(h, () => ran.length === 1)
      await settle()
      expect(ran).toEqual(['mail'])
      expect((await h.queue.getJob(stray.id))?.state).toBe('available')
    })

    it('a weight-3 job shares a capacity of 4 with one weight-1 job at most', async () => {
      const h = await open({ queues: { default: { concurrency: 4 } } })
      const probe = new ConcurrencyProbe()
      const hold = gate()
      const handler = async (_p: { n: number }, ctx: { job: { weight: number; kind: string } }) => {
        const leave = probe.enter(ctx.job.kind, ctx.job.weight)
        await hold.wait()
        leave()
      }
      h.queue.register(heavy, handler)
      h.queue.register(light, handler)
      await h.queue.enqueue(heavy, { n: 0 })
      for (let n = 1; n <= 3; n++) await h.queue.enqueue(light, { n })
      await h.queue.start()
      await waitFor(() => probe.active === 4)
      await settle()
      expect(probe.activeByKey.get('heavy')).toBe(1)
      expect(probe.activeByKey.get('light')).toBe(1)
      hold.open()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 4)
      expect(probe.peak).toBe(4)
    })

    it('weight-1 jobs fill the capacity when no heavy job is waiting', async () => {
      const h = await open({ queues: { default: { concurrency: 4 } } })
      const probe = new ConcurrencyProbe()
      const hold = gate()
      h.queue.register(light, async (_p, ctx) => {
        const leave = probe.enter('', ctx.job.weight)
        await hold.wait()
        leave()
      })
      for (let n = 0; n < 6; n++) await h.queue.enqueue(light, { n })
      await h.queue.start()
      await waitFor(() => probe.active === 4)
      await settle()
      expect(probe.active).toBe(4)
      hold.open()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 6)
      expect(probe.peak).toBe(4)
    })

    it('a heavy job next in line is not overtaken by lighter jobs behind it', async () => {
      const h = await open({ queues: { default: { concurrency: 4 } } })
      const started: string[] = []
      const gates = new Map<string, ReturnType<typeof gate>>()
      const handler = async ({ n }: { n: number }, ctx: { job: { kind: string } }) => {
        const name = `${ctx.job.kind}-${n}`
        started.push(name)
        const g = gate()
        gates.set(name, g)
        await g.wait()
      }
      h.queue.register(heavy, handler)
      h.queue.register(light, handler)
      await h.queue.enqueue(light, { n: 1 })
      await h.queue.enqueue(light, { n: 2 })
      await h.queue.enqueue(heavy, { n: 3 })
      await h.queue.enqueue(light, { n: 4 })
      await h.queue.start()
      await waitFor(() => started.length === 2)
      await settle()
      // light-4 would fit the 2 free slots, but heavy-3 is first in line and does not fit yet.
      expect(started).toEqual(['light-1', 'light-2'])
      gates.get('light-1')!.open()
      await waitWhileTicking(h, () => started.includes('heavy-3'))
      await settle()
      expect(started).toEqual(['light-1', 'light-2', 'heavy-3'])
      for (const g of gates.values()) g.open()
      await waitWhileTicking(h, () => {
        for (const g of gates.values()) g.open()
        return started.length === 4
      })
      await waitWhileTicking(h, async () => (await succeeded(h)) === 4)
    })

    it('a job heavier than the whole capacity still runs, alone, and does not block the queue', async () => {
      const h = await open({ queues: { default: { concurrency: 2 } } })
      const probe = new ConcurrencyProbe()
      const ran: string[] = []
      const handler = async ({ n }: { n: number }, ctx: { job: { kind: string; weight: number } }) => {
        const leave = probe.enter(ctx.job.kind)
        ran.push(`${ctx.job.kind}-${n}`)
        await settle(2)
        leave()
      }
      h.queue.register(heavy, handler)
      h.queue.register(light, handler)
      await h.queue.enqueue(light, { n: 1 })
      await h.queue.enqueue(heavy, { n: 2 })
      await h.queue.enqueue(light, { n: 3 })
      await h.queue.start()
      await waitWhileTicking(h, async () => (await succeeded(h)) === 3)
      expect(ran).toEqual(['light-1', 'heavy-2', 'light-3'])
      expect(probe.peakByKey.get('heavy')).toBe(1)
    })

    it("records a buffered job's attempt as started when its handler started, after its wait in the local buffer", async () => {
      const h = await open({ queues: { default: { concurrency: 1 } }, prefetch: 1, maxBufferWaitMs: 60_000 })
      const hold = gate()
      const started: number[] = []
      h.queue.register(work, async ({ n }) => {
        started.push(n)
        if (n === 1) await hold.wait()
      })
      const first = await h.queue.enqueue(work, { n: 1 })
      const second = await h.queue.enqueue(work, { n: 2 })
      await h.queue.start()
      await waitFor(() => started.length === 1)
      // Both were claimed at T0: the second waits in the buffer while the first runs for 3 s.
      expect(await job(h, second.id)).toMatchObject({ state: 'running', attemptedAt: T0 })
      h.clock.advance(3000)
      hold.open()
      await waitFor(() => started.length === 2)
      await waitFor(async () => (await succeeded(h)) === 2)
      expect((await job(h, first.id)).attemptedAt).toBe(T0)
      expect((await job(h, second.id)).attemptedAt).toBe(T0 + 3000)
    })

    it('drain runs one job at a time regardless of concurrency', async () => {
      const h = await open({ queues: { default: { concurrency: 10 } } })
      const probe = new ConcurrencyProbe()
      h.queue.register(work, async () => {
        const leave = probe.enter()
        await settle(2)
        leave()
      })
      for (let n = 0; n < 5; n++) await h.queue.enqueue(work, { n })
      expect(await h.queue.drain()).toMatchObject({ succeeded: 5 })
      expect(probe.peak).toBe(1)
    })
  })
}
