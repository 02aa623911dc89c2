/**
 * The queues overview: counts by state, jobs per minute, lag, paused flag and pause/resume, orphans,
 * waiting jobs no live worker can take, and the storage health of the queue's database.
 */
import { JOB_STATES } from '../../core/domain/job.js'
import type { OrphanReport } from '../../core/ports/store.js'
import type { OversizedJobs } from '../capacity.js'
import { queryString } from '../filter.js'
import { formatDuration, formatTime, timeTag } from '../format.js'
import { html, type SafeHtml } from '../html.js'
import type { PageParts } from '../layout.js'
import type { Estimate, QueueOverview } from '../metrics.js'
import { actionForm, href, ORPHAN_BADGE, type View } from '../view.js'
import { type StorageHealthState, storageHealthSection } from './storage-health.js'

/** Renders the overview page. */
export function overviewPage(
  view: View,
  queues: readonly QueueOverview[],
  orphans: OrphanReport = { jobs: [], schedules: [] },
  health: StorageHealthState = null,
  oversized: readonly OversizedJobs[] = [],
): PageParts {
  const orphanedIn = new Map<string, number>()
  for (const g of orphans.jobs) orphanedIn.set(g.queue, (orphanedIn.get(g.queue) ?? 0) + g.count)
  const rows = queues.map((q) => queueRow(view, q, orphanedIn.get(q.queue) ?? 0))
  const totals = JOB_STATES.map((state) => queues.reduce((sum, q) => sum + (q.counts[state] ?? 0), 0))
  const body = html`<h1>Queues</h1>
<div id="live-overview" data-live>
${
  queues.length === 0
    ? html`<div class="card muted">No queues yet: jobs appear here as soon as one is enqueued.</div>`
    : html`<table>
  <thead><tr><th>Queue</th>${JOB_STATES.map((s) => html`<th class="num">${s}</th>`)}
  <th class="num" title="Jobs that finished in the last minute">Jobs/min</th>
  <th class="num" title="How long the oldest due waiting job has waited">Lag</th><th>Status</th><th></th></tr></thead>
  <tbody>${rows}</tbody>
  <tfoot><tr><td class="muted">All queues</td>${totals.map(
    (n, i) =>
      html`<td class="num"><a href="${href(view, `/jobs${queryString({ state: JOB_STATES[i] })}`)}">${count(n)}</a></td>`,
  )}<td></td><td></td><td></td><td></td></tr></tfoot>
</table>`
}
${orphansCard(view, orphans)}
${oversized.length === 0 ? '' : oversizedCard(view, oversized)}
<p class="muted">Updated ${formatTime(view.now)} UTC. Jobs/min counts jobs that finished in the last minute;
lag is how long the oldest due waiting job has waited. A “≥” marks a lower bound from a sample of recent jobs.</p>
${storageHealthSection(view, health)}
</div>`
  return { title: 'Queues', section: 'queues', body }
}

/** The orphans: a count, then the due jobs by queue and kind (a list: the queues table stays the one table) and the schedules nothing will run. */
function orphansCard(view: View, orphans: OrphanReport): SafeHtml {
  if (orphans.jobs.length === 0 && orphans.schedules.length === 0) return html``
  const total = orphans.jobs.reduce((sum, g) => sum + g.count, 0)
  return html`<div class="card" id="orphans"><h2>${ORPHAN_BADGE} ${count(total)} orphaned jobs, ${count(orphans.schedules.length)} orphaned schedules</h2>
<p class="muted">Due jobs and schedules of a queue and kind that no live process serves (none registered a handler for the kind with a worker for the queue): they wait until one does.</p>
${
  orphans.jobs.length === 0
    ? ''
    : html`<ul class="orphans">${orphans.jobs.map(
        (
          g,
        ) => html`<li>${count(g.count)} due <a href="${href(view, `/jobs${queryString({ queue: g.queue, kind: g.kind })}`)}">${g.kind}</a>
in ${g.queue}, the oldest due ${timeTag(g.oldestRunAt, view.now)}</li>`,
      )}</ul>`
}
${
  orphans.schedules.length === 0
    ? ''
    : html`<p>Schedules: ${orphans.schedules.map((s, i) => html`${i > 0 ? ', ' : ''}<a href="${href(view, '/schedules')}">${s.name}</a> (${s.kind})`)}</p>`
}
</div>`
}

function queueRow(view: View, q: QueueOverview, orphaned: number): SafeHtml {
  const jobsOf = (state?: string) => href(view, `/jobs${queryString({ queue: q.queue, state })}`)
  const path = `/queues/${encodeURIComponent(q.queue)}`
  return html`<tr>
  <td><a href="${jobsOf()}"><strong>${q.queue}</strong></a><div class="muted">${count(q.total)} jobs</div></td>
  ${JOB_STATES.map((state) => html`<td class="num"><a href="${jobsOf(state)}">${count(q.counts[state] ?? 0)}</a></td>`)}
  <td class="num">${estimate(q.finishedPerMinute, String)}${
    q.failedPerMinute && q.failedPerMinute.value > 0
      ? html`<div class="muted">${estimate(q.failedPerMinute, String)} failed</div>`
      : ''
  }</td>
  <td class="num">${estimate(q.lagMs, formatDuration)}</td>
  <td>${q.paused ? html`<span class="badge paused">paused</span>` : html`<span class="badge s-succeeded">active</span>`}${
    orphaned > 0 ? html` <a href="#orphans" class="badge orphaned">${count(orphaned)} orphaned</a>` : ''
  }</td>
  <td>${
    q.paused
      ? actionForm(view, { path: `${path}/resume`, label: 'Resume' })
      : actionForm(view, {
          path: `${path}/pause`,
          label: 'Pause',
          confirm: `Pause queue ${q.queue}? Workers stop claiming its jobs until it is resumed.`,
        })
  }</td>
</tr>`
}

/** Waiting jobs heavier than every live worker of their queue takes (all refuse oversized jobs). */
function oversizedCard(view: View, oversized: readonly OversizedJobs[]): SafeHtml {
  const total = oversized.reduce((sum, o) => sum + o.count, 0)
  return html`<div class="card" id="oversized-jobs">
  <strong>${total.toLocaleString('en-US')}${oversized.some((o) => o.more) ? '+' : ''} waiting
  ${total === 1 ? 'job' : 'jobs'} no live worker can take</strong>
  <p class="muted">Heavier than the capacity of every live worker of their queue (all set to
  <code>oversized: 'refuse'</code>): they wait until a worker with room for them starts.</p>
  <ul>${oversized.map(
    (o) => html`<li><a href="${href(
      view,
      `/jobs${queryString({ queue: o.queue, state: 'scheduled,available,retryable', minWeight: String(o.largestCapacity + 1) })}`,
    )}">${o.queue}: ${o.count.toLocaleString('en-US')}${o.more ? '+' : ''}</a>
    <span class="muted">weight above ${o.largestCapacity}</span></li>`,
  )}</ul>
</div>`
}

function count(n: number): SafeHtml {
  return n === 0 ? html`<span class="zero">0</span>` : html`${n.toLocaleString('en-US')}`
}

function estimate(e: Estimate | null, format: (n: number) => string): SafeHtml {
  if (e === null) return html`<span class="muted">—</span>`
  if (e.value === 0 && !e.atLeast) return html`<span class="zero">${format(0)}</span>`
  return html`${e.atLeast ? '≥ ' : ''}${format(e.value)}`
}
