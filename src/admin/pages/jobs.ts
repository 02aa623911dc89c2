/** The job list: filters, keyset pagination (`before` = last id of the page) and bulk actions. */
import { JOB_STATES, type JobRecord } from '../../core/domain/job.js'
import type { OrphanedJobs } from '../../core/ports/store.js'
import { activeFields, describeFilter, type FilterFields, queryString } from '../filter.js'
import { lagText, previewJson, timeTag } from '../format.js'
import { html, type SafeHtml } from '../html.js'
import type { PageParts } from '../layout.js'
import { actionForm, href, ORPHAN_BADGE, stateBadge, type View } from '../view.js'

/** What the job list shows. */
export interface JobListData {
  readonly fields: FilterFields
  readonly jobs: readonly JobRecord[]
  /** Whether an older page exists. */
  readonly hasMore: boolean
  /** The cursor of this page, if it is not the first. */
  readonly before: string | undefined
  /** The page size, when the query string set one (kept in the pagination links). */
  readonly limit: number | undefined
  /** Queue names for the filter's choices. */
  readonly queueNames: readonly string[]
  /** Orphaned jobs by queue and kind: their due waiting jobs get an `orphaned` badge. */
  readonly orphans?: readonly OrphanedJobs[]
}

/** Renders the job list page. */
export function jobsPage(view: View, data: JobListData): PageParts {
  const { fields, jobs } = data
  const last = jobs[jobs.length - 1]
  const size: Record<string, string> = data.limit === undefined ? {} : { limit: String(data.limit) }
  const orphaned = new Set((data.orphans ?? []).map((g) => orphanKey(g.queue, g.kind)))
  const body = html`<h1>Jobs</h1>
${filterForm(view, data)}
${bulkActions(view, fields)}
<div id="live-jobs" data-live>
<table>
  <thead><tr><th>Id</th><th>Kind</th><th>Queue</th><th>State</th><th class="num">Attempt</th>
  <th>Created</th><th>Runs / finished</th><th class="num" title="From the due time to the start of the last attempt">Lag</th><th>Payload</th></tr></thead>
  <tbody>${
    jobs.length === 0
      ? html`<tr><td colspan="9" class="muted">No jobs match ${describeFilter(fields)}${data.before ? ' on this page' : ''}.</td></tr>`
      : jobs.map((job) => jobRow(view, job, orphaned))
  }</tbody>
</table>
</div>
<div class="pager">
  ${data.before ? html`<a class="btn" href="${href(view, `/jobs${queryString(fields, size)}`)}">« Newest</a>` : ''}
  ${
    data.hasMore && last
      ? html`<a class="btn" rel="next" href="${href(view, `/jobs${queryString(fields, { ...size, before: last.id })}`)}">Older »</a>`
      : ''
  }
  <span class="muted">${jobs.length} shown${data.before ? html`, ids below ${data.before}` : ''}, newest first</span>
</div>`
  return { title: 'Jobs', section: 'jobs', body }
}

function orphanKey(queue: string, kind: string): string {
  return JSON.stringify([queue, kind])
}

function jobRow(view: View, job: JobRecord, orphaned: ReadonlySet<string>): SafeHtml {
  const waiting =
    job.state === 'scheduled' ||
    job.state === 'available' ||
    job.state === 'retryable' ||
    job.state === 'paused'
  // A paused job is held on purpose: it is never an orphan.
  const orphan =
    waiting && job.state !== 'paused' && job.runAt <= view.now && orphaned.has(orphanKey(job.queue, job.kind))
  return html`<tr>
  <td class="mono"><a href="${href(view, `/jobs/${job.id}`)}">${job.id}</a></td>
  <td>${job.kind}</td>
  <td>${job.queue}</td>
  <td>${stateBadge(job.state)}${orphan ? html` ${ORPHAN_BADGE}` : ''}</td>
  <td class="num">${job.attempt}/${job.maxAttempts}</td>
  <td>${timeTag(job.createdAt, view.now)}</td>
  <td>${waiting ? timeTag(job.runAt, view.now) : timeTag(job.finishedAt ?? job.attemptedAt, view.now)}</td>
  <td class="num">${lagText(job)}</td>
  <td class="mono muted">${previewJson(job.payload, 80)}</td>
</tr>`
}

function filterForm(view: View, data: JobListData): SafeHtml {
  const f = data.fields
  const queues = [...new Set([...data.queueNames, ...(f.queue ? [f.queue] : [])])].sort()
  const states = f.state && !JOB_STATES.includes(f.state as never) ? [f.state, ...JOB_STATES] : JOB_STATES
  const option = (value: string, current: string | undefined, label = value) =>
    html`<option value="${value}" ${value === (current ?? '') ? html`selected` : ''}>${label}</option>`
  return html`<form class="card filters" method="get" action="${href(view, '/jobs')}" role="search">
  <label>Queue<select name="queue">${option('', f.queue, 'any')}${queues.map((q) => option(q, f.queue))}</select></label>
  <label>Kind<input name="kind" value="${f.kind ?? ''}" maxlength="128" placeholder="any"></label>
  <label>State<select name="state">${option('', f.state, 'any')}${states.map((s) => option(s, f.state))}</select></label>
  <label>Payload contains<input name="q" value="${f.q ?? ''}" maxlength="200" placeholder="text"></label>
  <label>Created from (UTC)<input type="datetime-local" name="from" value="${f.from ?? ''}"></label>
  <label>Created before (UTC)<input type="datetime-local" name="to" value="${f.to ?? ''}"></label>
  <label>Unique key<input name="uniqueKey" value="${f.uniqueKey ?? ''}" maxlength="512" placeholder="any"></label>
  ${f.key ? html`<label title="the job holding this unique key, else its newest finished one">Name<input name="key" value="${f.key}" maxlength="512"></label>` : ''}
  ${f.schedule ? html`<label>Schedule<input name="schedule" value="${f.schedule}" maxlength="128"></label>` : ''}
  <button type="submit" class="btn primary">Filter</button>
  <a class="btn" href="${href(view, '/jobs')}">Clear</a>
</form>`
}

function bulkActions(view: View, fields: FilterFields): SafeHtml {
  const active = activeFields(fields)
  if (!view.canAct || Object.keys(active).length === 0) return html``
  const what = describeFilter(fields)
  const bulk = (action: string, label: string, confirm: string, danger = false) =>
    actionForm(view, { path: `/bulk/${action}`, label, confirm, danger, fields: active })
  return html`<div class="card actions"><span class="muted">Every job matching ${what} (all pages):</span>
  ${bulk('retry', 'Retry', `Retry every ${fields.state ? 'finished' : 'failed or cancelled'} job matching ${what}?`)}
  ${bulk('run', 'Run waiting now', `Make every waiting job matching ${what} available now?`)}
  ${bulk('pause', 'Pause waiting', `Pause every waiting job matching ${what}? They are not run until resumed.`)}
  ${bulk('resume', 'Resume paused', `Resume every paused job matching ${what}?`)}
  ${bulk('cancel', 'Cancel', `Cancel every waiting or running job matching ${what}?`, true)}
  ${bulk('delete', 'Delete', `Delete every job matching ${what} that is not running? This cannot be undone.`, true)}
</div>`
}
