/**
 * The admin routes over `app.inject()`, on every adapter: pages, filters, keyset pages, job detail,
 * schedules, actions with their flash messages, input validation, and mounting under any prefix.
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { ManualClock } from '../../src/core/ports/clock.js'
import { adapters, adminApp, Client, flashOf, listedIds, newJob } from './helpers.js'

const mail = defineJob<{ to: string }>({ kind: 'mail.send', queue: 'mail', maxAttempts: 1 })
const resize = defineJob<{ asset: string }>({ kind: 'image.resize', queue: 'media' })
const MINUTE = 60_000

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin routes on ${adapter.name}`, () => {
    let queue: CoreQueue
    let clock: ManualClock
    let close: () => Promise<void>
    let app: FastifyInstance
    let client: Client

    beforeEach(async () => {
      ;({ queue, clock, close } = await adapter.create())
      queue.register(mail, (p) => {
        if (p.to.startsWith('bad')) throw new TypeError(`no mailbox for ${p.to}`)
      })
      queue.register(resize, () => {})
      app = await adminApp(queue)
      client = new Client(app)
    })

    afterEach(async () => {
      await app.close()
      await close()
    })

    /** The overview's cells for one queue, as text. */
    const rowOf = (body: string, name: string): string[] => {
      const row = body.split('<tr>').find((r) => r.includes(`<strong>${name}</strong>`)) ?? ''
      return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
        (m[1] ?? '').replace(/<[^>]+>/g, '').trim(),
      )
    }

    it('shows counts by state, jobs per minute, lag and the paused flag per queue', async () => {
      for (const to of ['a@x', 'b@x', 'bad@x']) await queue.enqueue(mail, { to })
      await queue.enqueue(resize, { asset: 'a.png' })
      clock.advance(90_000)
      await queue.drain({ queues: ['mail'] })
      await queue.enqueue(mail, { to: 'late@x' })
      clock.advance(30_000)
      await queue.pauseQueue('media')

      const page = await client.get('/admin/')
      expect(page.statusCode).toBe(200)
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
      const mailRow = rowOf(page.body, 'mail')
      // queue, 8 states, jobs/min, lag, status
      expect(mailRow.slice(1, 9)).toEqual(['0', '1', '0', '0', '0', '2', '1', '0'])
      expect(mailRow[9]).toContain('3') // three finished 30 s ago
      expect(mailRow[9]).toContain('1 failed')
      expect(mailRow[10]).toBe('30s') // the job enqueued 30 s ago waits
      // No process runs workers in this test: the due jobs are orphans.
      expect(mailRow[11]).toBe('active 1 orphaned')
      const mediaRow = rowOf(page.body, 'media')
      expect(mediaRow[2]).toBe('1')
      expect(mediaRow[10]).toBe('2m') // waiting since enqueue, two minutes ago
      expect(mediaRow[11]).toBe('paused 1 orphaned')
      expect(page.body).toContain('action="/admin/queues/media/resume"')
      expect(page.body).toContain('action="/admin/queues/mail/pause"')
    })

    it('counts orphans on the overview (by queue and kind, with the schedules) and badges them in the job list', async () => {
      const ghost = defineJob<{ n: number }>({ kind: 'ghost.kind', queue: 'media' })
      await queue.start() // this process now registers mail.send and image.resize
      await queue.pauseQueue('media')
      const orphan = await queue.enqueue(ghost, { n: 1 })
      const later = await queue.enqueue(ghost, { n: 2 }, { delayMs: MINUTE })
      const served = await queue.enqueue(resize, { asset: 'a.png' })
      await queue.schedule('@every 1 hour', ghost, { n: 3 }, { name: 'ghostly' })

      const page = await client.get('/admin/')
      expect(rowOf(page.body, 'media')[11]).toBe('paused 1 orphaned')
      expect(page.body).toContain('1 orphaned jobs, 1 orphaned schedules')
      expect(page.body).toContain('href="/admin/jobs?queue=media&amp;kind=ghost.kind"')
      expect(page.body).toContain('ghostly</a> (ghost.kind)')

      const list = await client.get('/admin/jobs?queue=media')
      const rows = list.body.split('<tr>')
      const rowFor = (id: string) => rows.find((r) => r.includes(`/jobs/${id}"`)) ?? ''
      expect(rowFor(orphan.id)).toContain('badge orphaned')
      expect(rowFor(later.id)).not.toContain('badge orphaned') // not due yet
      expect(rowFor(served.id)).not.toContain('badge orphaned')
    })

    it('filters the job list by queue, kind, state, payload text and time range', async () => {
      const a = await queue.enqueue(mail, { to: 'alice@example.com' })
      clock.advance(MINUTE)
      const b = await queue.enqueue(mail, { to: 'bad-bob@example.com' })
      const c = await queue.enqueue(resize, { asset: 'cat.png' })
      clock.advance(MINUTE)
      await queue.drain({ queues: ['mail'] })

      const ids = async (query: string) => {
        const page = await client.get(`/admin/jobs${query}`)
        expect(page.statusCode, page.body).toBe(200)
        return listedIds(page.body)
      }
      expect(await ids('')).toEqual([c.id, b.id, a.id])
      expect(await ids('?queue=mail')).toEqual([b.id, a.id])
      expect(await ids('?kind=image.resize')).toEqual([c.id])
      expect(await ids('?state=failed')).toEqual([b.id])
      expect(await ids('?state=failed,available')).toEqual([c.id, b.id])
      expect(await ids('?q=ALICE')).toEqual([a.id])
      expect(await ids('?queue=&kind=&state=&q=')).toEqual([c.id, b.id, a.id]) // an empty form means any
      const t1 = new Date(clock.now() - MINUTE).toISOString().slice(0, 16)
      expect(await ids(`?from=${t1}`)).toEqual([c.id, b.id])
      expect(await ids(`?to=${t1}`)).toEqual([a.id])
      const page = await client.get('/admin/jobs?queue=mail&state=failed')
      expect(page.body).toContain('<option value="mail" selected>')
      expect(page.body).toContain('<option value="failed" selected>')
      expect(page.body).toContain('action="/admin/bulk/retry"')
    })

    it('filters the job list by unique key (every job that had it) and by name (the job it means)', async () => {
      const old = await queue.enqueue(mail, { to: 'a@x' }, { uniqueKey: 'digest/daily' })
      await queue.drain({ queues: ['mail'] })
      const current = await queue.enqueue(mail, { to: 'b@x' }, { uniqueKey: 'digest/daily', delayMs: MINUTE })
      await queue.enqueue(mail, { to: 'c@x' }, { uniqueKey: 'other' })
      const ids = async (query: string) => {
        const page = await client.get(`/admin/jobs${query}`)
        expect(page.statusCode, page.body).toBe(200)
        return listedIds(page.body)
      }
      const key = encodeURIComponent('digest/daily')
      expect(await ids(`?uniqueKey=${key}`)).toEqual([current.id, old.id])
      expect(await ids(`?key=${key}`)).toEqual([current.id])
      expect(await ids(`?key=${key}&kind=image.resize`)).toEqual([])
      expect(await ids('?uniqueKey=')).toHaveLength(3)
      const page = await client.get(`/admin/jobs?uniqueKey=${key}`)
      expect(page.body).toContain('<input name="uniqueKey" value="digest/daily"')
      expect(page.body).toContain('action="/admin/bulk/cancel"')
      const named = await client.get(`/admin/jobs?key=${key}`)
      expect(named.body).toContain('<input name="key" value="digest/daily"')
      // The job page links its unique key to the jobs that had it.
      const detail = await client.get(`/admin/jobs/${current.id}`)
      expect(detail.body).toContain(`href="/admin/jobs?uniqueKey=${key}"`)
      const tooLong = await client.get(`/admin/jobs?uniqueKey=${'x'.repeat(513)}`)
      expect(tooLong.statusCode).toBe(400)
      expect(tooLong.body).toContain('uniqueKey')
    })

    it('pages with a keyset cursor, newest first', async () => {
      const ids: string[] = []
      for (let i = 0; i < 7; i++) ids.push((await queue.enqueue(mail, { to: `u${i}@x` })).id)
      const newest = [...ids].reverse()
      const first = await client.get('/admin/jobs?limit=3')
      expect(listedIds(first.body)).toEqual(newest.slice(0, 3))
      expect(first.body).toContain(`href="/admin/jobs?limit=3&amp;before=${newest[2]}"`)
      const second = await client.get(`/admin/jobs?limit=3&before=${newest[2]}`)
      expect(listedIds(second.body)).toEqual(newest.slice(3, 6))
      const third = await client.get(`/admin/jobs?limit=3&before=${newest[5]}`)
      expect(listedIds(third.body)).toEqual(newest.slice(6))
      expect(third.body).not.toContain('rel="next"')
      expect(third.body).toContain('« Newest')
    })

    it('shows a job: payload, options, metadata, tags, attempts with stacks, workflow state, trace id', async () => {
      const [outcome] = await queue.store.insertJobs({
        now: clock.now(),
        jobs: [
          newJob({
            kind: mail.kind,
            queue: 'mail',
            runAt: clock.now(),
            maxAttempts: 1,
            payload: { to: 'bad@example.com', nested: { list: [1, 2] } },
            metadata: { tenant: 'acme' },
            tags: ['vip'],
            uniqueKey: 'mail:bad',
            workflowState: { step: 2 },
            traceContext: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
          }),
        ],
      })
      const id = outcome?.job.id ?? ''
      await queue.drain()
      const page = await client.get(`/admin/jobs/${id}`)
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain('<span class="badge s-failed">failed</span>')
      expect(page.body).toContain('&quot;to&quot;: &quot;bad@example.com&quot;,\n  &quot;nested&quot;: {')
      expect(page.body).toContain('&quot;tenant&quot;: &quot;acme&quot;')
      expect(page.body).toContain('<span class="badge">vip</span>')
      expect(page.body).toContain('mail:bad')
      expect(page.body).toContain('&quot;step&quot;: 2')
      expect(page.body).toContain('<dt>Trace id</dt><dd class="mono">0af7651916cd43dd8448eb211c80319c</dd>')
      expect(page.body).toContain('<span class="mono">TypeError</span>: no mailbox for bad@example.com')
      expect(page.body).toMatch(/<summary>Stack trace<\/summary><pre>TypeError: no mailbox[^<]*\n\s+at /)
      expect(page.body).not.toContain('<h2>Logs</h2>') // records carry no logs yet
      expect(page.body).toContain(`action="/admin/jobs/${id}/retry"`)
      expect(page.body).toContain(`action="/admin/jobs/${id}/delete"`)
      expect(page.body).not.toContain(`action="/admin/jobs/${id}/cancel"`)

      expect((await client.get('/admin/jobs/999999')).statusCode).toBe(404)
      const bad = await client.get('/admin/jobs/12ab')
      expect(bad.statusCode).toBe(400)
      expect(bad.body).toContain(
        'The path part &quot;id&quot; is not valid: expected a job id (digits only).',
      )
    })

    it("shows each started job's lag, from its due time to the start of its last attempt", async () => {
      const late = await queue.enqueue(resize, { asset: 'late.png' })
      const waiting = await queue.enqueue(resize, { asset: 'later.png' }, { delayMs: 10 * MINUTE })
      clock.advance(90_000)
      await queue.drain({ queues: ['media'], limit: 1 })
      const list = await client.get('/admin/jobs?queue=media')
      expect(list.body).toContain(
        '<th class="num" title="From the due time to the start of the last attempt">Lag</th>',
      )
      const row = (id: string) => list.body.split('<tr>').find((r) => r.includes(`/admin/jobs/${id}"`)) ?? ''
      expect(row(late.id)).toContain('<td class="num">1m 30s</td>')
      expect(row(waiting.id)).toContain('<td class="num"><span class="muted">—</span></td>')
      const page = await client.get(`/admin/jobs/${late.id}`)
      expect(page.body).toContain('<dt>Lag</dt><dd>1m 30s')
      const notStarted = await client.get(`/admin/jobs/${waiting.id}`)
      expect(notStarted.body).toContain('<dt>Lag</dt><dd><span class="muted">—</span>')
    })

    it('lists schedules with expression, time zone, next and previous run', async () => {
      await queue.schedule(
        '0 9 * * *',
        mail,
        { to: 'team@x' },
        { name: 'morning-mail', timezone: 'Europe/Paris' },
      )
      await queue.schedule('@every 10m', resize, { asset: 'x' }, { name: 'resize-often' })
      clock.advance(10 * MINUTE)
      await queue.drain()
      const page = await client.get('/admin/schedules')
      expect(page.statusCode).toBe(200)
      const row = (name: string) =>
        page.body.split('<tr>').find((r) => r.includes(`<strong>${name}</strong>`)) ?? ''
      expect(row('morning-mail')).toContain('0 9 * * *')
      expect(row('morning-mail')).toContain('Europe/Paris')
      expect(row('morning-mail')).toContain('2030-01-01 08:00:00 UTC') // 09:00 in Paris
      expect(row('morning-mail')).toMatch(
        /then <time datetime="2030-01-02T08:00:00.000Z"[^>]*>in 31h 50m<\/time>/,
      )
      expect(row('resize-often')).toContain('2030-01-01 00:20:00 UTC')
      expect(row('resize-often')).toMatch(/<td><time [^>]*>now<\/time><\/td>/) // previous tick, just fired
      expect(row('resize-often')).toContain('href="/admin/jobs?schedule=resize-often"')
    })

    it('shows a schedule that runs after another by what it waits for, and default names', async () => {
      await queue.schedule(
        '@after 1 minute',
        mail,
        { to: 'ops@x' },
        { name: 'follow', after: 'resize-often' },
      )
      const unnamed = await queue.schedule('@every 10m', resize, { asset: 'y' })
      const page = await client.get('/admin/schedules')
      const row = (name: string) =>
        page.body.split('<tr>').find((r) => r.includes(`<strong>${name}</strong>`)) ?? ''
      expect(row('follow')).toContain('after resize-often succeeds')
      expect(row('follow')).not.toContain('none (fired)')
      expect(row(unnamed.name)).toContain(`href="/admin/jobs?schedule=${encodeURIComponent(unnamed.name)}"`)
    })

    it('pauses and resumes one job from its page and as bulk actions; the badge shows paused', async () => {
      const job = await queue.enqueue(resize, { asset: 'a' }, { delayMs: MINUTE })
      const page = await client.get(`/admin/jobs/${job.id}`)
      expect(page.body).toContain(`action="/admin/jobs/${job.id}/pause"`)
      expect(page.body).not.toContain(`action="/admin/jobs/${job.id}/resume"`)
      expect((await client.act(`/admin/jobs/${job.id}/pause`)).flash).toBe(`Paused: job ${job.id}.`)
      const paused = await client.get(`/admin/jobs/${job.id}`)
      expect(paused.body).toContain('<span class="badge s-paused">paused</span>')
      expect(paused.body).toContain(`action="/admin/jobs/${job.id}/resume"`)
      expect(paused.body).not.toContain(`action="/admin/jobs/${job.id}/pause"`)
      expect((await client.act(`/admin/jobs/${job.id}/pause`)).flash).toBe(
        `Job ${job.id} was left as it was: it does not exist or is not waiting.`,
      )
      expect((await client.act(`/admin/jobs/${job.id}/resume`)).flash).toBe(`Resumed: job ${job.id}.`)
      expect((await queue.getJob(job.id))?.state).toBe('scheduled')

      const list = await client.get('/admin/jobs?queue=media')
      expect(list.body).toContain('action="/admin/bulk/pause"')
      expect(list.body).toContain('action="/admin/bulk/resume"')
      expect((await client.act('/admin/bulk/pause', { queue: 'media' })).flash).toBe(
        'Paused: 1 job matching queue=media.',
      )
      expect((await client.act('/admin/bulk/resume', { queue: 'media' })).flash).toBe(
        'Resumed: 1 job matching queue=media.',
      )
    })

    it('changes the workflow state and the schedule expression from the job page; shows the run count', async () => {
      const job = await queue.enqueue(resize, { asset: 'a' }, { delayMs: MINUTE, state: { step: 1 } })
      const page = await client.get(`/admin/jobs/${job.id}`)
      expect(page.body).toContain(`action="/admin/jobs/${job.id}/edit"`)
      expect(page.body).toContain('<dt>Runs</dt><dd>0 ')
      expect(page.body).not.toContain('name="expression"') // no schedule enqueued it
      expect((await client.act(`/admin/jobs/${job.id}/edit`, { workflowState: '{"step": 7}' })).flash).toBe(
        `Changed the workflow state of job ${job.id}.`,
      )
      expect((await queue.getJob(job.id))?.workflowState).toEqual({ step: 7 })
      expect((await client.act(`/admin/jobs/${job.id}/edit`, { workflowState: '{step' })).flash).toMatch(
        /not valid JSON/,
      )
      expect((await client.act(`/admin/jobs/${job.id}/edit`, { workflowState: '' })).flash).toMatch(
        /give a workflow state or a new expression/,
      )
      expect((await client.act(`/admin/jobs/${job.id}/edit`, { expression: '@every 1 hour' })).flash).toMatch(
        /not enqueued by a schedule/,
      )
      expect((await client.act(`/admin/jobs/${job.id}/edit`, { workflowState: 'null' })).flash).toBe(
        `Changed the workflow state of job ${job.id}.`,
      )
      expect((await queue.getJob(job.id))?.workflowState).toBeNull()

      await queue.schedule('@every 1 hour', resize, { asset: 'x' }, { name: 'thumbs' })
      await queue.pauseQueue('media')
      clock.advance(60 * MINUTE)
      await queue.drain()
      const [tick] = await queue.listJobs({ scheduleName: 'thumbs' })
      expect((await client.get(`/admin/jobs/${tick!.id}`)).body).toContain('name="expression"')
      expect((await client.act(`/admin/jobs/${tick!.id}/edit`, { expression: '@every 3 hours' })).flash).toBe(
        `Changed the schedule expression of job ${tick!.id}.`,
      )
      expect((await queue.listSchedules())[0]?.expression).toBe('@every 3 hours')
    })

    it('retries, runs now, cancels and deletes one job, saying what it did', async () => {
      const failed = await queue.enqueue(mail, { to: 'bad@x' })
      const later = await queue.enqueue(resize, { asset: 'a' }, { delayMs: 3_600_000 })
      await queue.drain()
      await client.get(`/admin/jobs/${failed.id}`)

      expect(await client.act(`/admin/jobs/${failed.id}/retry`, { back: `/jobs/${failed.id}` })).toEqual({
        status: 200,
        flash: `Retried: job ${failed.id}.`,
      })
      expect((await queue.getJob(failed.id))?.state).toBe('available')

      expect((await client.act(`/admin/jobs/${later.id}/run`)).flash).toBe(
        `Made available now: job ${later.id}.`,
      )
      const ran = await queue.getJob(later.id)
      expect(ran?.state).toBe('available')
      expect(ran?.runAt).toBeLessThanOrEqual(clock.now())

      // Destructive actions ask first when the browser did not confirm.
      const ask = await client.post(`/admin/jobs/${later.id}/cancel`, { back: '/jobs' })
      expect(ask.statusCode).toBe(200)
      expect(ask.body).toContain(`Cancel job ${later.id}?`)
      expect(ask.body).toContain('<input type="hidden" name="confirmed" value="1">')
      expect((await queue.getJob(later.id))?.state).toBe('available')
      expect((await client.act(`/admin/jobs/${later.id}/cancel`)).flash).toBe(`Cancelled: job ${later.id}.`)
      expect((await client.act(`/admin/jobs/${later.id}/cancel`)).flash).toBe(
        `Job ${later.id} was left as it was: it does not exist or has already finished.`,
      )

      const deleted = await client.post(`/admin/jobs/${later.id}/delete`, {
        confirmed: '1',
        back: `/jobs/${later.id}`,
      })
      expect(deleted.statusCode).toBe(303)
      expect(deleted.headers.location).toBe('/admin/jobs')
      expect(await queue.getJob(later.id)).toBeNull()
    })

    it('acts on a filtered selection and pauses and resumes queues', async () => {
      for (const to of ['bad1@x', 'bad2@x', 'ok@x']) await queue.enqueue(mail, { to })
      await queue.enqueue(resize, { asset: 'a' })
      await queue.drain({ queues: ['mail'] })
      await client.get('/admin/jobs?queue=mail&state=failed')

      const ask = await client.post('/admin/bulk/retry', {
        queue: 'mail',
        state: 'failed',
        back: '/jobs?queue=mail',
      })
      expect(ask.statusCode).toBe(200)
      expect(ask.body).toContain('Retry every job matching queue=mail, state=failed')
      const retried = await client.act('/admin/bulk/retry', { queue: 'mail', state: 'failed' })
      expect(retried.flash).toBe('Retried: 2 jobs matching queue=mail, state=failed.')
      expect((await queue.stats()).find((s) => s.queue === 'mail')?.counts.available).toBe(2)

      const none = await client.act('/admin/bulk/run', { queue: 'mail', state: 'succeeded' })
      expect(none.flash).toMatch(/^Nothing to do: run applies to waiting or paused jobs/)
      expect((await client.act('/admin/bulk/cancel', { queue: 'mail' })).flash).toBe(
        'Cancelled: 2 jobs matching queue=mail.',
      )
      expect((await client.act('/admin/bulk/delete', { kind: 'mail.send', state: 'cancelled' })).flash).toBe(
        'Deleted: 2 jobs matching kind=mail.send, state=cancelled.',
      )
      const noFilter = await client.post('/admin/bulk/delete', { confirmed: '1' })
      expect(noFilter.statusCode).toBe(400)
      expect(noFilter.body).toContain('A bulk action needs a filter')
      expect((await queue.listJobs()).length).toBe(2)

      expect((await client.act('/admin/queues/media/pause')).flash).toBe(
        'Paused queue media: no worker claims its jobs now.',
      )
      expect((await queue.stats()).find((s) => s.queue === 'media')?.paused).toBe(true)
      expect((await client.act('/admin/queues/media/resume')).flash).toBe('Resumed queue media.')
      expect((await queue.stats()).find((s) => s.queue === 'media')?.paused).toBe(false)
    })

    it('answers 400 with a clear message for bad query strings', async () => {
      const cases: [string, string][] = [
        ['?state=bogus', 'Unknown job state &quot;bogus&quot;: use one of scheduled, available, running'],
        [
          `?q=${'x'.repeat(5000)}`,
          'The query parameter &quot;q&quot; is too long: expected text to find in payloads',
        ],
        ['?before=12x', 'The query parameter &quot;before&quot; is not valid: expected a job id'],
        [
          '?limit=100000',
          'The query parameter &quot;limit&quot; is not valid: expected a whole number from 1 to 500',
        ],
        ['?queue=no%20spaces', 'The query parameter &quot;queue&quot; is not valid: expected a queue name'],
        ['?from=yesterday', 'The from time &quot;yesterday&quot; is not valid'],
        [
          '?from=2030-01-02T00:00&to=2030-01-01T00:00',
          'The &quot;from&quot; time must be before the &quot;to&quot; time.',
        ],
        ['?state=failed&state=running', 'The query parameter &quot;state&quot; is not valid'],
      ]
      for (const [query, message] of cases) {
        const page = await client.get(`/admin/jobs${query}`)
        expect(page.statusCode, query).toBe(400)
        expect(page.body, query).toContain(message)
      }
    })
  })
}

describe('admin routes under any prefix', () => {
  it.each([
    ['', '/'],
    ['/ops/queues', '/ops/queues/'],
  ])('mounts at %j', async (prefix, home) => {
    const memory = adapters[0]
    if (!memory) throw new Error('no memory adapter')
    const { queue, close } = await memory.create()
    const app = await adminApp(queue, { prefix })
    try {
      const job = await queue.enqueue(mail, { to: 'a@x' })
      const client = new Client(app)
      const page = await client.get(home)
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain(`href="${prefix}/jobs?queue=mail"`)
      expect(page.headers['set-cookie']?.toString()).toContain(`Path=${prefix || '/'};`)
      await client.get(`${prefix}/jobs/${job.id}`)
      const result = await client.post(`${prefix}/jobs/${job.id}/cancel`, {
        confirmed: '1',
        back: `/jobs/${job.id}`,
      })
      expect(result.statusCode).toBe(303)
      expect(result.headers.location).toBe(`${prefix}/jobs/${job.id}`)
      expect(flashOf((await client.get(String(result.headers.location))).body)).toBe(
        `Cancelled: job ${job.id}.`,
      )
      expect((await client.get(`${prefix}/no-such-page`)).statusCode).toBe(404)
    } finally {
      await app.close()
      await close()
    }
  })
})
