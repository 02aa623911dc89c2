/**
 * The JSON API's job routes on every adapter, over `app.inject()`: search with every filter and
 * keyset paging, detail with errors and logs, updates with payload validation, single-job and bulk
 * actions. Every answer is checked against the OpenAPI document (see `ApiClient`).
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
const mail = defineJob({
  kind: 'mail.send',
  queue: 'mail',
  maxAttempts: 1,
  schema: z.object({ to: z.string().email() }),
})
const resize = defineJob<{ asset: string; size?: number }>({ kind: 'image.resize', queue: 'media' })
/** A kind no handler is registered for on the test queue. */
const report = defineJob({
  kind: 'report.build',
  schema: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/) }),
})
const MINUTE = 60_000

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin API jobs on ${adapter.name}`, () => {
    let queue: CoreQueue
    let clock: ManualClock
    let close: () => Promise<void>
    let app: FastifyInstance
    let api: ApiClient

    beforeEach(async () => {
      ;({ queue, clock, close } = await adapter.create())
      queue.register(mail, (p, ctx) => {
        ctx.log.info('sending', { to: p.to })
        if (p.to.startsWith('bad')) throw new TypeError(`no mailbox for ${p.to}`)
      })
      queue.register(resize, () => {})
      app = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false })
      api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
    })

    afterEach(async () => {
      await app.close()
      await close()
    })

    it('searches by queue, kind, state, payload text, payload JSON and time range', async () => {
      const a = await queue.enqueue(mail, { to: 'alice@example.com' })
      clock.advance(MINUTE)
      const b = await queue.enqueue(mail, { to: 'bad-bob@example.com' })
      const c = await queue.enqueue(resize, { asset: 'cat.png', size: 2 })
      clock.advance(MINUTE)
      await queue.drain({ queues: ['mail'] })
      const ids = async (query: string) => {
        const answer = await api.get(`/jobs${query}`)
        expect(answer.status, JSON.stringify(answer.body)).toBe(200)
        return answer.body.jobs.map((j: { id: string }) => j.id)
      }
      expect(await ids('')).toEqual([c.id, b.id, a.id])
      expect(await ids('?queue=media')).toEqual([c.id])
      expect(await ids('?kind=mail.send')).toEqual([b.id, a.id])
      expect(await ids('?state=failed,available')).toEqual([c.id, b.id])
      expect(await ids('?q=BOB')).toEqual([b.id])
      expect(await ids(`?payload=${encodeURIComponent('{"size":2}')}`)).toEqual([c.id])
      expect(await ids(`?payload=${encodeURIComponent('{"to":"alice@example.com"}')}`)).toEqual([a.id])
      expect(await ids(`?from=${new Date(T0 + MINUTE).toISOString()}`)).toEqual([c.id, b.id])
      expect(await ids(`?to=${new Date(T0 + MINUTE).toISOString()}`)).toEqual([a.id])

      const one = (await api.get(`/jobs?queue=media`)).body.jobs[0]
      expect(one).toMatchObject({
        id: c.id,
        kind: 'image.resize',
        queue: 'media',
        state: 'available',
        payload: { asset: 'cat.png', size: 2 },
        runAt: new Date(T0 + MINUTE).toISOString(),
        createdAt: new Date(T0 + MINUTE).toISOString(),
      })
    })

    it('pages with a cursor, newest first, until nextCursor is null', async () => {
      const made: string[] = []
      for (let i = 0; i < 5; i++) made.push((await queue.enqueue(resize, { asset: `${i}.png` })).id)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const answer = await api.get(`/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        expect(answer.status).toBe(200)
        seen.push(...answer.body.jobs.map((j: { id: string }) => j.id))
        cursor = answer.body.nextCursor
        pages++
      } while (cursor !== null)
      expect(seen).toEqual(made.reverse())
      expect(pages).toBe(3)
    })

    it('refuses bad search parameters with a code that names the problem', async () => {
      const cases: [string, string][] = [
        ['?state=lost', 'INVALID_FILTER'],
        ['?from=yesterday', 'INVALID_FILTER'],
        [`?payload=${encodeURIComponent('{"to":')}`, 'INVALID_FILTER'],
        ['?limit=0', 'VALIDATION_FAILED'],
        ['?limit=many', 'VALIDATION_FAILED'],
        ['?cursor=abc', 'VALIDATION_FAILED'],
        ['?queue=no%20spaces', 'VALIDATION_FAILED'],
        ['?stat=failed', 'VALIDATION_FAILED'],
      ]
      for (const [query, code] of cases) {
        const answer = await api.get(`/jobs${query}`)
        expect(answer.status, query).toBe(400)
        expect(answer.body.error.code, query).toBe(code)
      }
      const typo = await api.get('/jobs?stat=failed')
      expect(typo.body.error.message).toContain('stat')
    })

    it('shows one job with its attempts, errors and logs; 404 for an unknown id', async () => {
      const job = await queue.enqueue(mail, { to: 'bad@example.com' })
      await queue.drain()
      const answer = await api.get(`/jobs/${job.id}`)
      expect(answer.status).toBe(200)
      const shown = answer.body.job
      expect(shown).toMatchObject({ id: job.id, state: 'failed', attempt: 1, maxAttempts: 1 })
      expect(shown.errors).toHaveLength(1)
      expect(shown.errors[0]).toMatchObject({
        attempt: 1,
        name: 'TypeError',
        message: 'no mailbox for bad@example.com',
      })
      expect(shown.logs[0].lines[0]).toMatchObject({
        level: 'info',
        message: 'sending',
        fields: { to: 'bad@example.com' },
      })
      expect(shown.finishedAt).toBe(new Date(T0).toISOString())

      const missing = await api.get('/jobs/987654321')
      expect(missing.status).toBe(404)
      expect(missing.body.error.code).toBe('JOB_NOT_FOUND')
      expect((await api.get('/jobs/12abc')).body.error.code).toBe('VALIDATION_FAILED')
    })

    it('updates a waiting job: run time, priority and payload, validated with its schema', async () => {
      const job = await queue.enqueue(mail, { to: 'a@example.com' }, { delayMs: MINUTE })
      const runAt = new Date(T0 + 10 * MINUTE).toISOString()
      const answer = await api.patch(`/jobs/${job.id}`, {
        body: { runAt, priority: 5, payload: { to: 'b@example.com' } },
      })
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      expect(answer.body.job).toMatchObject({ runAt, priority: 5, payload: { to: 'b@example.com' } })
      expect((await queue.getJob(job.id))?.payload).toEqual({ to: 'b@example.com' })

      const invalid = await api.patch(`/jobs/${job.id}`, { body: { payload: { to: 'not-an-email' } } })
      expect(invalid.status).toBe(422)
      expect(invalid.body.error.code).toBe('INVALID_PAYLOAD')
      expect(invalid.body.error.details.issues[0].path).toEqual(['to'])
      expect((await queue.getJob(job.id))?.payload).toEqual({ to: 'b@example.com' })
    })

    it('refuses updates of finished jobs (409), unknown ids (404), bad bodies (400) and unknown kinds (422)', async () => {
      const done = await queue.enqueue(resize, { asset: 'x.png' })
      await queue.drain()
      const finished = await api.patch(`/jobs/${done.id}`, { body: { priority: 1 } })
      expect(finished.status).toBe(409)
      expect(finished.body.error.code).toBe('JOB_NOT_WAITING')

      expect((await api.patch('/jobs/987654321', { body: { priority: 1 } })).body.error.code).toBe(
        'JOB_NOT_FOUND',
      )

      const waiting = await queue.enqueue(resize, { asset: 'y.png' })
      const bodies: unknown[] = [
        {},
        { priority: 'high' },
        { priority: 1.5 },
        { runAt: 'tomorrow' },
        { prio: 1 },
        [1],
      ]
      for (const body of bodies) {
        const answer = await api.patch(`/jobs/${waiting.id}`, { body })
        expect(answer.status, JSON.stringify(body)).toBe(400)
        expect(answer.body.error.code).toBe('VALIDATION_FAILED')
        expect(answer.body.error.details.issues.length).toBeGreaterThan(0)
      }

      const unregistered = await queue.enqueue(report, { month: '2030-01' })
      const refused = await api.patch(`/jobs/${unregistered.id}`, { body: { payload: { month: '2030-02' } } })
      expect(refused.status).toBe(422)
      expect(refused.body.error.code).toBe('UNKNOWN_JOB_KIND')
      expect(refused.body.error.message).toContain('`jobs` option')
      // Without a payload, no definition is needed.
      expect((await api.patch(`/jobs/${unregistered.id}`, { body: { priority: 3 } })).status).toBe(200)
    })

    it('validates with the definitions of the `jobs` option', async () => {
      const unregistered = await queue.enqueue(report, { month: '2030-01' })
      const withJobs = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false, jobs: [report] })
      const client = new ApiClient(withJobs, { headers: { authorization: `Bearer ${TOKEN}` } })
      try {
        const bad = await client.patch(`/jobs/${unregistered.id}`, { body: { payload: { month: 'March' } } })
        expect(bad.status).toBe(422)
        expect(bad.body.error.code).toBe('INVALID_PAYLOAD')
        const good = await client.patch(`/jobs/${unregistered.id}`, {
          body: { payload: { month: '2030-03' } },
        })
        expect(good.status).toBe(200)
        expect(good.body.job.payload).toEqual({ month: '2030-03' })
      } finally {
        await withJobs.close()
      }
    })

    it('enqueues over HTTP: payload validated with its definition, options, idempotent through the unique key', async () => {
      const created = await api.post('/jobs', {
        body: {
          kind: 'mail.send',
          payload: { to: 'ann@example.com' },
          options: { priority: -3, tags: ['api'] },
        },
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({
        duplicate: false,
        job: { kind: 'mail.send', queue: 'mail', state: 'available', priority: -3, tags: ['api'] },
      })
      expect((await queue.getJob(created.body.job.id))?.payload).toEqual({ to: 'ann@example.com' })

      const later = await api.post('/jobs', {
        body: {
          kind: 'image.resize',
          payload: { asset: 'a.png' },
          options: { delayMs: MINUTE, queue: 'slow' },
        },
      })
      expect(later.body.job).toMatchObject({ state: 'scheduled', queue: 'slow' })
      expect(Date.parse(later.body.job.runAt)).toBe(clock.now() + MINUTE)
      const at = new Date(clock.now() + 2 * MINUTE).toISOString()
      const timed = await api.post('/jobs', {
        body: { kind: 'image.resize', payload: { asset: 'b.png' }, options: { runAt: at } },
      })
      expect(timed.body.job.runAt).toBe(at)

      const grouped = await api.post('/jobs', {
        body: {
          kind: 'mail.send',
          payload: { to: 'g@example.com' },
          options: { groupKey: 'account-7', groupMode: 'release', groupLockTimeoutMs: 5_000 },
        },
      })
      expect(grouped.status, JSON.stringify(grouped.body)).toBe(201)
      expect(grouped.body.job).toMatchObject({
        groupKey: 'account-7',
        groupMode: 'release',
        groupLockTimeoutMs: 5_000,
      })
      const loose = await api.post('/jobs', {
        body: { kind: 'mail.send', payload: { to: 'g@example.com' }, options: { groupMode: 'sideways' } },
      })
      expect(loose.status).toBe(400)

      // The unique key makes a retried request safe: the second call answers the first job.
      const body = {
        kind: 'mail.send',
        payload: { to: 'once@example.com' },
        options: { uniqueKey: 'order-42' },
      }
      const first = await api.post('/jobs', { body })
      const again = await api.post('/jobs', { body })
      expect(first.status).toBe(201)
      expect(again.status).toBe(200)
      expect(again.body).toMatchObject({ duplicate: true, job: { id: first.body.job.id } })
      expect(await queue.listJobs({ kind: 'mail.send' })).toHaveLength(3) // the first, the grouped one, the keyed one
    })

    it('refuses bad enqueues with a code that names the problem, and stores nothing', async () => {
      const invalid = await api.post('/jobs', {
        body: { kind: 'mail.send', payload: { to: 'not-an-email' } },
      })
      expect(invalid.status).toBe(422)
      expect(invalid.body.error.code).toBe('INVALID_PAYLOAD')
      const unknown = await api.post('/jobs', { body: { kind: 'no.such.kind', payload: {} } })
      expect(unknown.status).toBe(422)
      expect(unknown.body.error.code).toBe('UNKNOWN_JOB_KIND')
      const noKind = await api.post('/jobs', { body: { payload: {} } })
      expect(noKind.status).toBe(400)
      expect(noKind.body.error.code).toBe('VALIDATION_FAILED')
      const badOption = await api.post('/jobs', {
        body: { kind: 'image.resize', payload: { asset: 'x' }, options: { colour: 'red' } },
      })
      expect(badOption.status).toBe(400)
      const both = await api.post('/jobs', {
        body: {
          kind: 'image.resize',
          payload: { asset: 'x' },
          options: { delayMs: 5, runAt: new Date(T0).toISOString() },
        },
      })
      expect(both.status).toBe(400)
      expect(both.body.error.message).toMatch(/runAt or delayMs/)
      expect(await queue.listJobs({})).toEqual([])

      const readOnly = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false, readOnly: true })
      try {
        const client = new ApiClient(readOnly, { headers: { authorization: `Bearer ${TOKEN}` } })
        const refused = await client.post('/jobs', {
          body: { kind: 'image.resize', payload: { asset: 'x' } },
        })
        expect(refused.status).toBe(403)
        expect(refused.body.error.code).toBe('READ_ONLY')
      } finally {
        await readOnly.close()
      }
      expect(await queue.listJobs({})).toEqual([])
    })

    it('retries, runs now, cancels and deletes one job; 409 when its state does not allow it', async () => {
      const failed = await queue.enqueue(mail, { to: 'bad@example.com' })
      await queue.drain()
      const retried = await api.post(`/jobs/${failed.id}/retry`)
      expect(retried.status).toBe(200)
      expect(retried.body.job).toMatchObject({ id: failed.id, state: 'available' })

      const later = await queue.enqueue(resize, { asset: 'later.png' }, { delayMs: 60 * MINUTE })
      const ran = await api.post(`/jobs/${later.id}/run`)
      expect(ran.body.job).toMatchObject({ state: 'available', runAt: new Date(T0).toISOString() })

      const cancelled = await api.post(`/jobs/${later.id}/cancel`)
      expect(cancelled.body.job.state).toBe('cancelled')
      const again = await api.post(`/jobs/${later.id}/cancel`)
      expect(again.status).toBe(409)
      expect(again.body.error).toMatchObject({ code: 'JOB_STATE_CONFLICT', details: { state: 'cancelled' } })
      expect((await api.post(`/jobs/${later.id}/run`)).status).toBe(409)

      const deleted = await api.delete(`/jobs/${later.id}`)
      expect(deleted.body).toEqual({ count: 1 })
      expect(await queue.getJob(later.id)).toBeNull()
      for (const action of ['retry', 'run', 'cancel']) {
        const missing = await api.post(`/jobs/${later.id}/${action}`)
        expect(missing.status, action).toBe(404)
        expect(missing.body.error.code).toBe('JOB_NOT_FOUND')
      }
      expect((await api.delete(`/jobs/${later.id}`)).status).toBe(404)
    })

    it('reads, changes, stops, restarts and deletes a job by name (its unique key)', async () => {
      const first = await queue.enqueue(resize, { asset: 'a.png' }, { uniqueKey: 'nightly-report' })
      await queue.drain({ queues: ['media'] })
      const job = await queue.enqueue(
        resize,
        { asset: 'b.png' },
        { uniqueKey: 'nightly-report', delayMs: MINUTE },
      )
      const read = await api.get('/jobs/by-key?key=nightly-report')
      expect(read.status, JSON.stringify(read.body)).toBe(200)
      expect(read.body.job).toMatchObject({ id: job.id, state: 'scheduled', uniqueKey: 'nightly-report' })
      expect((await api.get('/jobs/by-key?key=nightly-report&kind=image.resize')).body.job.id).toBe(job.id)

      const patched = await api.patch('/jobs/by-key?key=nightly-report', { body: { priority: 7 } })
      expect(patched.status, JSON.stringify(patched.body)).toBe(200)
      expect(patched.body.job).toMatchObject({ id: job.id, priority: 7 })
      const cancelled = await api.post('/jobs/by-key/cancel?key=nightly-report')
      expect(cancelled.body.job).toMatchObject({ id: job.id, state: 'cancelled' })
      const again = await api.post('/jobs/by-key/cancel?key=nightly-report')
      expect(again.status).toBe(409)
      expect(again.body.error.code).toBe('JOB_STATE_CONFLICT')
      const retried = await api.post('/jobs/by-key/retry?key=nightly-report')
      expect(retried.body.job).toMatchObject({ id: job.id, state: 'available' })
      const held = await api.post('/jobs/by-key/pause?key=nightly-report')
      expect(held.body.job).toMatchObject({ id: job.id, state: 'paused' })
      expect((await api.post('/jobs/actions/resume', { body: { key: 'nightly-report' } })).body).toEqual({
        count: 1,
      })
      expect((await api.post('/jobs/by-key/pause?key=nightly-report')).body.job.state).toBe('paused')
      expect((await api.post('/jobs/by-key/resume?key=nightly-report')).body.job.state).toBe('available')

      // The search: `key` is the named job, `uniqueKey` every job that had the key.
      const ids = async (query: string) =>
        (await api.get(`/jobs${query}`)).body.jobs.map((j: { id: string }) => j.id)
      expect(await ids('?key=nightly-report')).toEqual([job.id])
      expect(await ids('?uniqueKey=nightly-report')).toEqual([job.id, first.id])
      expect(await ids('?key=nightly-report&kind=mail.send')).toEqual([])

      expect((await api.post('/jobs/by-key/cancel?key=nightly-report')).status).toBe(200)
      const deleted = await api.delete('/jobs/by-key?key=nightly-report')
      expect(deleted.body).toEqual({ count: 1 })
      // The name now means the older, finished job.
      expect((await api.get('/jobs/by-key?key=nightly-report')).body.job.id).toBe(first.id)
      expect(
        (await api.post('/jobs/actions/delete', { body: { uniqueKey: 'nightly-report' } })).body,
      ).toEqual({
        count: 1,
      })

      const missing = await api.get('/jobs/by-key?key=nightly-report')
      expect(missing.status).toBe(404)
      expect(missing.body.error).toMatchObject({ code: 'JOB_KEY_NOT_FOUND' })
      expect(missing.body.error.message).toContain('"nightly-report"')
      for (const [method, path] of [
        ['patch', '/jobs/by-key?key=nope'],
        ['post', '/jobs/by-key/retry?key=nope'],
        ['post', '/jobs/by-key/run?key=nope'],
        ['post', '/jobs/by-key/cancel?key=nope'],
        ['delete', '/jobs/by-key?key=nope'],
      ] as const) {
        const answer = await api[method](path, method === 'patch' ? { body: { priority: 1 } } : {})
        expect(answer.status, `${method} ${path}`).toBe(404)
        expect(answer.body.error.code).toBe('JOB_KEY_NOT_FOUND')
      }
    })

    it('a key two kinds hold answers 409 AMBIGUOUS_JOB_KEY until the kind is given; bad keys are 400', async () => {
      const a = await queue.enqueue(resize, { asset: 'a.png' }, { uniqueKey: 'shared', delayMs: MINUTE })
      const b = await queue.enqueue(mail, { to: 'a@x.io' }, { uniqueKey: 'shared', delayMs: MINUTE })
      const ambiguous = await api.get('/jobs/by-key?key=shared')
      expect(ambiguous.status).toBe(409)
      expect(ambiguous.body.error.code).toBe('AMBIGUOUS_JOB_KEY')
      expect((await api.post('/jobs/by-key/cancel?key=shared')).status).toBe(409)
      expect((await api.get('/jobs/by-key?key=shared&kind=mail.send')).body.job.id).toBe(b.id)
      const cancelled = await api.post('/jobs/actions/cancel', {
        body: { key: 'shared', kind: 'image.resize' },
      })
      expect(cancelled.body).toEqual({ count: 1 })
      expect((await queue.getJob(a.id))?.state).toBe('cancelled')
      const slash = await queue.enqueue(resize, { asset: 's.png' }, { uniqueKey: 'reports/2030-01 #1' })
      const encoded = await api.get(`/jobs/by-key?key=${encodeURIComponent('reports/2030-01 #1')}`)
      expect(encoded.body.job.id).toBe(slash.id)
      const long = 'x'.repeat(512)
      await queue.enqueue(resize, { asset: 'l.png' }, { uniqueKey: long })
      expect((await api.get(`/jobs/by-key?key=${long}`)).status).toBe(200)
      for (const query of [
        `key=${long}x`,
        'key=',
        'kind=mail.send',
        'key=shared&kind=bad%20kind',
        'key=shared&other=1',
      ]) {
        expect((await api.get(`/jobs/by-key?${query}`)).body.error.code, query).toBe('VALIDATION_FAILED')
      }
    })

    it('pauses and resumes one job and a filtered selection; 409 when the state does not allow it', async () => {
      const a = await queue.enqueue(resize, { asset: 'a.png' })
      const b = await queue.enqueue(resize, { asset: 'b.png' }, { delayMs: MINUTE })
      const paused = await api.post(`/jobs/${a.id}/pause`)
      expect(paused.status).toBe(200)
      expect(paused.body.job).toMatchObject({ id: a.id, state: 'paused', runs: 0 })
      expect((await api.post(`/jobs/${a.id}/pause`)).body.error).toMatchObject({
        code: 'JOB_STATE_CONFLICT',
        details: { state: 'paused' },
      })
      expect((await queue.drain()).total).toBe(0)
      expect((await api.post(`/jobs/${a.id}/resume`)).body.job.state).toBe('available')
      expect((await api.post(`/jobs/${a.id}/resume`)).status).toBe(409)
      expect((await api.post('/jobs/actions/pause', { body: { kind: 'image.resize' } })).body).toEqual({
        count: 2,
      })
      expect((await api.get('/jobs?state=paused')).body.jobs).toHaveLength(2)
      expect((await api.post('/jobs/actions/resume', { body: { ids: [b.id] } })).body).toEqual({ count: 1 })
      expect((await queue.getJob(b.id))?.state).toBe('scheduled')
      expect((await api.post('/jobs/actions/resume', {})).body.error.code).toBe('FILTER_REQUIRED')
    })

    it('changes the workflow state of a waiting job and the expression of its schedule', async () => {
      const job = await queue.enqueue(resize, { asset: 'a.png' }, { state: { step: 1 } })
      const changed = await api.patch(`/jobs/${job.id}`, { body: { workflowState: { step: 4 } } })
      expect(changed.status, JSON.stringify(changed.body)).toBe(200)
      expect(changed.body.job.workflowState).toEqual({ step: 4 })
      const cleared = await api.patch(`/jobs/${job.id}`, { body: { workflowState: null } })
      expect(cleared.body.job.workflowState).toBeNull()
      const noSchedule = await api.patch(`/jobs/${job.id}`, { body: { expression: '@every 1 hour' } })
      expect(noSchedule.status).toBe(400)
      expect(noSchedule.body.error.code).toBe('INVALID_ARGUMENT')

      await queue.schedule('@every 1 hour', resize, { asset: 'nightly.png' }, { name: 'thumbs' })
      await queue.pauseQueue('media')
      clock.advance(60 * MINUTE)
      await queue.drain()
      const [tick] = await queue.listJobs({ scheduleName: 'thumbs' })
      const bad = await api.patch(`/jobs/${tick!.id}`, { body: { expression: '@every banana' } })
      expect(bad.status).toBe(422)
      expect(bad.body.error.code).toBe('INVALID_SCHEDULE')
      const moved = await api.patch(`/jobs/${tick!.id}`, { body: { expression: '@every 2 hours' } })
      expect(moved.status, JSON.stringify(moved.body)).toBe(200)
      expect((await api.get('/schedules/thumbs')).body.schedule.expression).toBe('@every 2 hours')
    })

    it('acts on every job a filter selects and answers the count; an empty filter is refused', async () => {
      for (const to of ['bad1@x.io', 'bad2@x.io', 'ok@x.io']) await queue.enqueue(mail, { to })
      const keep = await queue.enqueue(resize, { asset: 'keep.png', size: 1 })
      const drop = await queue.enqueue(resize, { asset: 'drop.png', size: 9 })
      await queue.drain({ queues: ['mail'] })

      const retried = await api.post('/jobs/actions/retry', { body: { queue: 'mail' } })
      expect(retried.body).toEqual({ count: 2 }) // failed ones only, not the succeeded one
      const none = await api.post('/jobs/actions/run', { body: { states: ['succeeded'] } })
      expect(none.body).toEqual({ count: 0 })
      const deleted = await api.post('/jobs/actions/delete', {
        body: { kind: 'image.resize', payload: { size: 9 } },
      })
      expect(deleted.body).toEqual({ count: 1 })
      expect(await queue.getJob(drop.id)).toBeNull()
      expect(await queue.getJob(keep.id)).not.toBeNull()
      const cancelled = await api.post('/jobs/actions/cancel', { body: { ids: [keep.id] } })
      expect(cancelled.body).toEqual({ count: 1 })

      for (const body of [{}, undefined]) {
        const refused = await api.post('/jobs/actions/delete', body === undefined ? {} : { body })
        expect(refused.status).toBe(400)
        expect(refused.body.error.code).toBe('FILTER_REQUIRED')
      }
      const unknownField = await api.post('/jobs/actions/delete', { body: { everything: true } })
      expect(unknownField.body.error.code).toBe('VALIDATION_FAILED')
      const badState = await api.post('/jobs/actions/delete', { body: { states: ['gone'] } })
      expect(badState.body.error.code).toBe('VALIDATION_FAILED')
      expect((await queue.listJobs({ queue: 'mail' })).length).toBe(3)
    })
  })
}
