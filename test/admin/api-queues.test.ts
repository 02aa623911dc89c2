/**
 * The JSON API's queue and schedule routes on every adapter: stats with the paused flag, pause and
 * resume, and listing, creating, replacing and deleting schedules with payload validation.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { ManualClock } from '../../src/core/ports/clock.js'
import { ApiClient } from './api-client.js'
import { adapters, adminApp, T0 } from './helpers.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'
const cleanup = defineJob({
  kind: 'cleanup',
  queue: 'maintenance',
  schema: z.object({ days: z.number().int().positive() }),
})
const resize = defineJob<{ asset: string }>({ kind: 'image.resize', queue: 'media' })
const HOUR = 3_600_000

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin API queues and schedules on ${adapter.name}`, () => {
    let queue: CoreQueue
    let clock: ManualClock
    let close: () => Promise<void>
    let app: FastifyInstance
    let api: ApiClient

    beforeEach(async () => {
      ;({ queue, clock, close } = await adapter.create())
      queue.register(resize, () => {})
      app = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false, jobs: [cleanup] })
      api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
    })

    afterEach(async () => {
      await app.close()
      await close()
    })

    it('lists queues with counts by state and the paused flag, and pauses and resumes them', async () => {
      await queue.enqueue(resize, { asset: 'a.png' })
      await queue.enqueue(resize, { asset: 'b.png' })
      await queue.drain({ limit: 1 })
      clock.advance(30_000)
      const listed = await api.get('/queues')
      expect(listed.status).toBe(200)
      const media = listed.body.queues.find((q: { queue: string }) => q.queue === 'media')
      expect(media).toMatchObject({
        queue: 'media',
        paused: false,
        total: 2,
        counts: { available: 1, succeeded: 1, failed: 0 },
        finishedPerMinute: { value: 1, atLeast: false },
        lagMs: { value: 30_000, atLeast: false },
      })

      const paused = await api.post('/queues/media/pause')
      expect(paused.status).toBe(200)
      expect(paused.body.queue).toMatchObject({ queue: 'media', paused: true })
      expect((await queue.stats()).find((s) => s.queue === 'media')?.paused).toBe(true)
      expect((await api.post('/queues/media/resume')).body.queue.paused).toBe(false)
      expect((await queue.stats()).find((s) => s.queue === 'media')?.paused).toBe(false)

      const bad = await api.post('/queues/no%20such/pause')
      expect(bad.status).toBe(400)
      expect(bad.body.error.code).toBe('VALIDATION_FAILED')
    })

    it('lists orphans: due jobs by queue and kind, and schedules, whose queue and kind no live process serves', async () => {
      await queue.start() // registers image.resize in this process
      await queue.pauseQueue('media')
      await queue.pauseQueue('maintenance')
      await queue.enqueue(resize, { asset: 'a.png' })
      await queue.enqueue(cleanup, { days: 1 })
      await queue.schedule('@every 1 hour', cleanup, { days: 2 }, { name: 'nightly-cleanup' })
      const listed = await api.get('/orphans')
      expect(listed.status).toBe(200)
      expect(listed.body.jobs).toEqual([
        { queue: 'maintenance', kind: 'cleanup', count: 1, oldestRunAt: new Date(T0).toISOString() },
      ])
      expect(listed.body.schedules.map((s: { name: string }) => s.name)).toEqual(['nightly-cleanup'])
    })

    it('creates, reads, replaces and deletes a schedule', async () => {
      const created = await api.put('/schedules/nightly-cleanup', {
        body: {
          expression: '0 4 * * *',
          kind: 'cleanup',
          payload: { days: 30 },
          timezone: 'Europe/Paris',
          missed: 'skip',
          options: { queue: 'slow', priority: 3, maxAttempts: 2, tags: ['ops'] },
        },
      })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      expect(created.body.schedule).toMatchObject({
        name: 'nightly-cleanup',
        expression: '0 4 * * *',
        timezone: 'Europe/Paris',
        kind: 'cleanup',
        payload: { days: 30 },
        missed: 'skip',
        options: { queue: 'slow', priority: 3, maxAttempts: 2, tags: ['ops'] },
        nextRunAt: new Date(T0 + 3 * HOUR).toISOString(), // 04:00 in Paris is 03:00 UTC in winter
        lastTickAt: null,
      })

      const grouped = await api.put('/schedules/grouped-cleanup', {
        body: {
          expression: '@every 1 hour',
          kind: 'cleanup',
          payload: { days: 1 },
          options: { groupKey: 'tenant-1', groupMode: 'release', groupLockTimeoutMs: 60_000 },
        },
      })
      expect(grouped.status, JSON.stringify(grouped.body)).toBe(201)
      expect(grouped.body.schedule.options).toMatchObject({
        groupKey: 'tenant-1',
        groupMode: 'release',
        groupLockTimeoutMs: 60_000,
      })
      expect((await api.delete('/schedules/grouped-cleanup')).status).toBeLessThan(300)

      const replaced = await api.put('/schedules/nightly-cleanup', {
        body: { expression: '@every 2 hours', kind: 'cleanup', payload: { days: 7 } },
      })
      expect(replaced.status).toBe(200)
      expect(replaced.body.schedule).toMatchObject({
        expression: '@every 2 hours',
        payload: { days: 7 },
        timezone: null,
      })

      const listed = await api.get('/schedules')
      expect(listed.body.schedules.map((s: { name: string }) => s.name)).toEqual(['nightly-cleanup'])
      expect((await api.get('/schedules/nightly-cleanup')).body.schedule.payload).toEqual({ days: 7 })

      const deleted = await api.delete('/schedules/nightly-cleanup')
      expect(deleted.body).toEqual({ deleted: 'nightly-cleanup' })
      expect(await queue.listSchedules()).toEqual([])
      for (const answer of [
        await api.get('/schedules/nightly-cleanup'),
        await api.delete('/schedules/nightly-cleanup'),
      ]) {
        expect(answer.status).toBe(404)
        expect(answer.body.error.code).toBe('SCHEDULE_NOT_FOUND')
      }
    })

    it('creates a schedule with startAt and one that runs after another, and shows both fields', async () => {
      const startAt = new Date(T0 + 6 * HOUR).toISOString()
      const started = await api.put('/schedules/report', {
        body: { expression: '@every 1 day', kind: 'cleanup', payload: { days: 1 }, startAt },
      })
      expect(started.status, JSON.stringify(started.body)).toBe(201)
      expect(started.body.schedule).toMatchObject({ startAt, after: null, nextRunAt: startAt })

      const chained = await api.put('/schedules/report-cleanup', {
        body: { expression: '@after 5 minutes', kind: 'cleanup', payload: { days: 2 }, after: 'report' },
      })
      expect(chained.status, JSON.stringify(chained.body)).toBe(201)
      expect(chained.body.schedule).toMatchObject({ after: 'report', startAt: null, nextRunAt: null })
      expect((await queue.listSchedules()).find((s) => s.name === 'report-cleanup')?.after).toBe('report')

      const cronAfter = await api.put('/schedules/bad-chain', {
        body: { expression: '@daily', kind: 'cleanup', payload: { days: 1 }, after: 'report' },
      })
      expect(cronAfter.status).toBe(400)
      expect(cronAfter.body.error.code).toBe('INVALID_ARGUMENT')
      expect(cronAfter.body.error.message).toContain('@after <interval>')
      const badStart = await api.put('/schedules/bad-start', {
        body: { expression: '@daily', kind: 'cleanup', payload: { days: 1 }, startAt: 'tomorrow' },
      })
      expect(badStart.status).toBe(400)
      expect(badStart.body.error.code).toBe('VALIDATION_FAILED')
    })

    it('refuses invalid schedules: expression, payload, unknown kind, unknown fields', async () => {
      const put = (body: unknown) => api.put('/schedules/s1', { body })
      const badExpression = await put({ expression: '61 * * * *', kind: 'cleanup', payload: { days: 1 } })
      expect(badExpression.status).toBe(422)
      expect(badExpression.body.error.code).toBe('INVALID_SCHEDULE')

      const badPayload = await put({ expression: '@daily', kind: 'cleanup', payload: { days: -1 } })
      expect(badPayload.status).toBe(422)
      expect(badPayload.body.error.code).toBe('INVALID_PAYLOAD')
      expect(badPayload.body.error.details.issues[0].path).toEqual(['days'])

      const unknownKind = await put({ expression: '@daily', kind: 'nobody.knows' })
      expect(unknownKind.status).toBe(422)
      expect(unknownKind.body.error.code).toBe('UNKNOWN_JOB_KIND')
      expect(unknownKind.body.error.message).toContain('`jobs` option')

      const badZone = await put({
        expression: '@daily',
        kind: 'cleanup',
        payload: { days: 1 },
        timezone: 'Mars/Olympus',
      })
      expect(badZone.status).toBe(422)
      expect(badZone.body.error.code).toBe('INVALID_SCHEDULE')

      for (const body of [
        { kind: 'cleanup' },
        { expression: '@daily', kind: 'cleanup', options: { retries: 3 } },
        { expression: '@daily', kind: 'cleanup', missed: 'always' },
        { expression: '@daily', kind: 'cleanup', every: 'day' },
      ]) {
        const answer = await put(body)
        expect(answer.status, JSON.stringify(body)).toBe(400)
        expect(answer.body.error.code).toBe('VALIDATION_FAILED')
      }
      expect(await queue.listSchedules()).toEqual([])

      // A kind registered on the queue needs no `jobs` entry.
      const registered = await put({ expression: '@hourly', kind: 'image.resize', payload: { asset: 'x' } })
      expect(registered.status).toBe(201)
    })
  })
}
