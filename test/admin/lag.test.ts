/**
 * The admin page's lag of a job that waited in a prefetching worker's local buffer: from its due
 * time to its handler's start (the claim plus the buffer wait the worker reported), on every adapter,
 * as `conveyor_job_lag_seconds` measures it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { jobLagMs } from '../../src/admin/format.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { waitFor } from '../support/wait.js'
import { adapters, adminApp, Client, type TestQueue } from './helpers.js'

const resize = defineJob<{ asset: string }>({ kind: 'image.resize', queue: 'media' })

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin lag on ${adapter.name}`, () => {
    const opened: TestQueue[] = []
    afterEach(async () => {
      for (const q of opened.splice(0)) await q.close()
    })

    it("a buffered job's lag includes its wait in the worker's local buffer", async () => {
      const t = await adapter.create(undefined, {
        queues: { media: { concurrency: 1 } },
        prefetch: 1,
        maxBufferWaitMs: 60_000,
      })
      opened.push(t)
      const { queue, clock } = t
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const started: string[] = []
      queue.register(resize, async ({ asset }) => {
        started.push(asset)
        if (asset === 'first') await gate
      })
      const first = await queue.enqueue(resize, { asset: 'first' })
      const second = await queue.enqueue(resize, { asset: 'second' })
      clock.advance(90_000) // both are 90 s late when the worker claims them, together
      await queue.start()
      await waitFor(() => started.length === 1)
      clock.advance(3000) // the second waits in the buffer while the first runs
      release()
      const done = async (id: string) => {
        const job = await queue.getJob(id)
        return job?.state === 'succeeded' ? job : null
      }
      const [a, b] = (await Promise.all([waitFor(() => done(first.id)), waitFor(() => done(second.id))])) as [
        JobRecord,
        JobRecord,
      ]
      expect([jobLagMs(a), jobLagMs(b)]).toEqual([90_000, 93_000])

      const app = await adminApp(queue)
      try {
        const client = new Client(app)
        const list = await client.get('/admin/jobs?queue=media')
        const row = (id: string) =>
          list.body.split('<tr>').find((r) => r.includes(`/admin/jobs/${id}"`)) ?? ''
        expect(row(first.id)).toContain('<td class="num">1m 30s</td>')
        expect(row(second.id)).toContain('<td class="num">1m 33s</td>')
        expect((await client.get(`/admin/jobs/${second.id}`)).body).toContain('<dt>Lag</dt><dd>1m 33s')
      } finally {
        await app.close()
      }
    })
  })
}
