/** The admin page's building blocks: escaping, formatting, filters, bulk narrowing, metrics estimates. */
import { describe, expect, it } from 'vitest'
import { safeBack } from '../../src/admin/context.js'
import { parseStates, parseUtcTime, queryString, toJobFilter } from '../../src/admin/filter.js'
import { formatDuration, formatRelative, formatTime, jobLagMs, previewJson } from '../../src/admin/format.js'
import { escapeHtml, html, raw } from '../../src/admin/html.js'
import { queueOverviews } from '../../src/admin/metrics.js'
import { narrowFilter } from '../../src/admin/operations/job-actions.js'
import { jobDetailPage, traceIdOf } from '../../src/admin/pages/job-detail.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { adapters, T0 } from './helpers.js'

describe('html', () => {
  it('escapes every interpolated value unless it is already safe', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
    const user = '<script>x</script>'
    expect(html`<p>${user}</p>`.value).toBe('<p>&lt;script&gt;x&lt;/script&gt;</p>')
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value).toBe(
      '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>',
    )
    expect(html`${null}${undefined}${false}${0}${raw('<hr>')}`.value).toBe('0<hr>')
  })
})

describe('format', () => {
  it('formats durations, relative and absolute times and JSON previews', () => {
    expect([850, 42_000, 192_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration)).toEqual([
      '850 ms',
      '42s',
      '3m 12s',
      '2h 5m',
      '3d 4h',
    ])
    expect(formatRelative(T0 - 60_000, T0)).toBe('1m ago')
    expect(formatRelative(T0 + 90_000, T0)).toBe('in 1m 30s')
    expect(formatRelative(T0, T0)).toBe('now')
    expect(formatTime(T0)).toBe('2030-01-01 00:00:00')
    expect(formatTime(null)).toBe('—')
    expect(previewJson({ a: 'x'.repeat(200) }, 20)).toBe('{"a":"xxxxxxxxxxxxx…')
  })

  it("a job's lag runs from its due time to its last attempt's start (attemptedAt), once started", () => {
    const job = (state: JobRecord['state'], attemptedAt: number | null, runAt = T0) =>
      ({ state, runAt, attemptedAt }) as JobRecord
    // Written back: attemptedAt is the handler's start (the claim plus the local-buffer wait).
    expect(jobLagMs(job('succeeded', T0 + 93_000))).toBe(93_000)
    expect(jobLagMs(job('failed', T0))).toBe(0)
    // Running (perhaps still buffered): from the claim, a lower bound.
    expect(jobLagMs(job('running', T0 + 5000))).toBe(5000)
    // Not started, waiting again, or its run time moved past its last attempt: none.
    expect(jobLagMs(job('available', null))).toBeNull()
    expect(jobLagMs(job('retryable', T0 + 5000))).toBeNull()
    expect(jobLagMs(job('cancelled', T0, T0 + 60_000))).toBeNull()
  })
})

describe('filter', () => {
  it('parses states and UTC times and builds the core filter', () => {
    expect(parseStates('failed, cancelled,failed,')).toEqual(['failed', 'cancelled'])
    expect(() => parseStates('failed,nope')).toThrow(/Unknown job state "nope"/)
    expect(parseUtcTime('2030-01-01T09:30', 'from')).toBe(Date.UTC(2030, 0, 1, 9, 30))
    expect(parseUtcTime('2030-01-01 09:30:15Z', 'from')).toBe(Date.UTC(2030, 0, 1, 9, 30, 15))
    expect(() => parseUtcTime('2030-13-01T00:00', 'to')).toThrow(/The to time/)
    expect(toJobFilter({ queue: 'q', kind: '', state: 'failed', q: 'x', schedule: 's' })).toEqual({
      queue: 'q',
      states: ['failed'],
      payloadContains: 'x',
      scheduleName: 's',
    })
    expect(queryString({ queue: 'a b', kind: '' }, { before: '5' })).toBe('?queue=a+b&before=5')
    expect(queryString({})).toBe('')
  })

  it('narrows bulk actions to the states they apply to', () => {
    expect(narrowFilter('retry', { queue: 'q' })).toEqual({ queue: 'q', states: ['failed', 'cancelled'] })
    expect(narrowFilter('retry', { states: ['succeeded', 'available'] })).toEqual({ states: ['succeeded'] })
    expect(narrowFilter('run', { states: ['failed'] })).toBeNull()
    expect(narrowFilter('run', { kind: 'k' })).toEqual({
      kind: 'k',
      states: ['scheduled', 'available', 'retryable', 'paused'],
    })
    expect(narrowFilter('pause', { kind: 'k' })).toEqual({
      kind: 'k',
      states: ['scheduled', 'available', 'retryable'],
    })
    expect(narrowFilter('resume', { states: ['paused', 'failed'] })).toEqual({ states: ['paused'] })
    expect(narrowFilter('resume', { states: ['available'] })).toBeNull()
    expect(narrowFilter('cancel', { kind: 'k' })).toEqual({ kind: 'k' })
    expect(narrowFilter('delete', { states: ['running'] })).toBeNull()
  })

  it('keeps redirects inside the plugin', () => {
    expect(safeBack('/jobs?state=failed')).toBe('/jobs?state=failed')
    for (const bad of [
      '//evil',
      '/\\evil',
      'https://evil',
      'jobs',
      '/a b',
      42,
      undefined,
      `/${'x'.repeat(3000)}`,
    ]) {
      expect(safeBack(bad)).toBe('/')
    }
  })
})

describe('trace id', () => {
  it('reads the trace id of a W3C traceparent', () => {
    const job = (traceContext: Record<string, string> | null) => ({ traceContext }) as JobRecord
    expect(traceIdOf(job({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }))).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    )
    expect(traceIdOf(job({ traceparent: 'garbage' }))).toBeNull()
    expect(traceIdOf(job(null))).toBeNull()
  })
})

describe('job detail', () => {
  it('shows per-run logs only for records that carry them, escaped', async () => {
    const { queue, close } = await (adapters[0] ?? { create: () => Promise.reject(new Error()) }).create()
    const { id } = await queue.enqueue(defineJob({ kind: 'k' }), { a: 1 })
    const job = (await queue.getJob(id)) as JobRecord
    const view = { prefix: '/admin', now: T0, csrf: 't', canAct: false, back: '/' }
    expect(jobDetailPage(view, job).body.value).not.toContain('<h2>Logs</h2>')
    const withLogs: JobRecord = {
      ...job,
      logs: [
        {
          attempt: 1,
          lines: [
            { at: T0, level: 'info', message: 'started' },
            { at: T0, level: 'warn', message: '<i>slow</i>', fields: { ms: 5 } },
          ],
        },
      ],
    }
    const body = jobDetailPage(view, withLogs).body.value
    expect(body).toContain('<h2>Logs</h2><pre>Attempt 1\n')
    expect(body).toContain('INFO  started')
    expect(body).toContain('WARN  &lt;i&gt;slow&lt;/i&gt; {&quot;ms&quot;:5}')
    expect(body).not.toContain('method="post"') // read-only view: no action forms
    await close()
  })
})

describe('metrics', () => {
  it('marks jobs per minute and lag as lower bounds when the sample is full', async () => {
    const { queue, clock, close } = await (
      adapters[0] ?? { create: () => Promise.reject(new Error()) }
    ).create()
    const ping = defineJob<{ n: number }>({ kind: 'ping', queue: 'pings' })
    queue.register(ping, () => {})
    for (let n = 0; n < 6; n++) await queue.enqueue(ping, { n })
    await queue.drain()
    clock.advance(10_000)
    for (let n = 0; n < 6; n++) {
      await queue.enqueue(ping, { n })
      clock.advance(1000)
    }
    const [exact] = await queueOverviews(queue, clock.now(), 100)
    expect(exact?.finishedPerMinute).toEqual({ value: 6, atLeast: false })
    expect(exact?.lagMs).toEqual({ value: 6000, atLeast: false })
    const [sampled] = await queueOverviews(queue, clock.now(), 3)
    expect(sampled?.finishedPerMinute).toEqual({ value: 3, atLeast: true })
    expect(sampled?.lagMs).toEqual({ value: 3000, atLeast: true })
    const [off] = await queueOverviews(queue, clock.now(), 0)
    expect(off?.finishedPerMinute).toBeNull()
    expect(off?.counts.available).toBe(6)
    await close()
  })
})
