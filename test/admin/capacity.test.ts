/**
 * The overview says which waiting jobs no live worker can take (perseid's slots: an instance with
 * fewer slots than a job never runs it), and the job list filters them (`minWeight`), on every adapter.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { ManualClock } from '../../src/core/ports/clock.js'
import { adapters, adminApp, Client, listedIds } from './helpers.js'

const resize = defineJob<{ asset: string }>({ kind: 'image.resize', queue: 'media' })
const CARD = 'no live worker can take'

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin: jobs no live worker can take, on ${adapter.name}`, () => {
    let queue: CoreQueue
    let clock: ManualClock
    let close: () => Promise<void>
    let app: FastifyInstance
    let client: Client

    beforeEach(async () => {
      ;({ queue, clock, close } = await adapter.create())
      app = await adminApp(queue)
      client = new Client(app)
    })

    afterEach(async () => {
      await app.close()
      await close()
    })

    /** Another process's heartbeat, recording its workers. */
    const processWith = (processId: string, capacity: number, oversized: 'alone' | 'refuse') =>
      queue.store.recordHeartbeat({
        processId,
        now: clock.now(),
        workers: [{ queues: ['media'], capacity, oversized }],
      })

    it('counts and lists the waiting jobs heavier than every live worker of their queue, when all refuse them', async () => {
      const heavy = await queue.enqueue(resize, { asset: 'huge.tiff' }, { weight: 8 })
      await queue.enqueue(resize, { asset: 'a.png' })
      expect((await client.get('/admin/')).body).not.toContain(CARD)

      await processWith('small', 2, 'refuse')
      await processWith('medium', 4, 'refuse')
      const page = await client.get('/admin/')
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain(`1 waiting\n  job ${CARD}`)
      expect(page.body).toContain('media: 1')
      expect(page.body).toContain('minWeight=5')
      const list = await client.get(
        '/admin/jobs?queue=media&state=scheduled%2Cavailable%2Cretryable&minWeight=5',
      )
      expect(list.statusCode).toBe(200)
      expect(listedIds(list.body)).toEqual([heavy.id])

      // A live worker that runs any weight (alone when idle) takes it: nothing to report.
      await processWith('big', 2, 'alone')
      expect((await client.get('/admin/')).body).not.toContain(CARD)
    })

    it('forgets processes that stopped heartbeating', async () => {
      await queue.enqueue(resize, { asset: 'huge.tiff' }, { weight: 8 })
      await processWith('small', 2, 'refuse')
      expect((await client.get('/admin/')).body).toContain(CARD)
      clock.advance(60_000)
      expect((await client.get('/admin/')).body).not.toContain(CARD)
    })

    it('refuses a bad minWeight with what it accepts', async () => {
      const page = await client.get('/admin/jobs?minWeight=0')
      expect(page.statusCode).toBe(400)
      expect(page.body).toContain('whole number from 1 to 10000')
    })
  })
}
