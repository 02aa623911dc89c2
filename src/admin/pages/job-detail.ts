/** One job: payload, options, metadata, attempts with errors and stacks, workflow state, logs, trace. */
import { CHANGEABLE_STATES, type JobRecord } from '../../core/domain/job.js'
import { CSRF_FIELD } from '../csrf.js'
import { queryString } from '../filter.js'
import { absoluteTimeTag, formatDuration, formatTime, lagText, prettyJson, timeTag } from '../format.js'
import { html, type SafeHtml } from '../html.js'
import type { PageParts } from '../layout.js'
import { actionForm, href, stateBadge, type View } from '../view.js'

/** Renders the job detail page. */
export function jobDetailPage(view: View, job: JobRecord): PageParts {
  const traceId = traceIdOf(job)
  const logs = logsOf(job)
  const body = html`<h1>Job <span class="mono">${job.id}</span> ${stateBadge(job.state)}</h1>
<div class="actions">${jobActions(view, job)}
  <a class="btn" href="${href(view, `/jobs${queryString({ queue: job.queue, kind: job.kind })}`)}">Jobs of this kind</a></div>
<div id="live-job" data-live>
<div class="grid2">
  <section class="card"><h2>Summary</h2><dl class="props">
    <dt>Kind</dt><dd>${job.kind}</dd>
    <dt>Queue</dt><dd><a href="${href(view, `/jobs${queryString({ queue: job.queue })}`)}">${job.queue}</a></dd>
    <dt>State</dt><dd>${stateBadge(job.state)}</dd>
    <dt>Attempt</dt><dd>${job.attempt} of ${job.maxAttempts}</dd>
    <dt>Runs</dt><dd>${job.runs} <span class="muted">(snoozed runs included)</span></dd>
    <dt>Created</dt><dd>${absoluteTimeTag(job.createdAt, view.now)}</dd>
    <dt>Run at</dt><dd>${absoluteTimeTag(job.runAt, view.now)}</dd>
    <dt>Last attempt</dt><dd>${absoluteTimeTag(job.attemptedAt, view.now)}${
      job.attemptedBy ? html` <span class="muted">by</span> <span class="mono">${job.attemptedBy}</span>` : ''
    }</dd>
    <dt>Lag</dt><dd>${lagText(job)} <span class="muted">from due time to the last attempt's start</span></dd>
    <dt>Finished</dt><dd>${absoluteTimeTag(job.finishedAt, view.now)}</dd>
    ${traceId ? html`<dt>Trace id</dt><dd class="mono">${traceId}</dd>` : ''}
  </dl></section>
  <section class="card"><h2>Options</h2><dl class="props">
    <dt>Priority</dt><dd>${job.priority}</dd>
    <dt>Timeout</dt><dd>${job.timeoutMs > 0 ? formatDuration(job.timeoutMs) : 'none'}</dd>
    <dt>Weight</dt><dd>${job.weight}</dd>
    <dt>Unique key</dt><dd class="mono">${
      job.uniqueKey !== null
        ? html`<a href="${href(view, `/jobs${queryString({ uniqueKey: job.uniqueKey })}`)}" title="every job with this key">${job.uniqueKey}</a>`
        : html`<span class="muted">—</span>`
    }</dd>
    <dt>Group key</dt><dd class="mono">${job.groupKey ?? html`<span class="muted">—</span>`}</dd>
    <dt>Depends on</dt><dd>${
      job.dependsOn.length === 0
        ? html`<span class="muted">—</span>`
        : job.dependsOn.map((id) => html`<a class="mono" href="${href(view, `/jobs/${id}`)}">${id}</a> `)
    }</dd>
    <dt>Backoff</dt><dd>${
      job.backoff
        ? `${formatDuration(job.backoff.baseMs)} × ${job.backoff.factor}, at most ${formatDuration(job.backoff.maxMs)}, jitter ${job.backoff.jitter}`
        : html`<span class="muted">queue default</span>`
    }</dd>
    <dt>Schedule</dt><dd>${
      job.scheduleName
        ? html`<a href="${href(view, `/jobs${queryString({ schedule: job.scheduleName })}`)}">${job.scheduleName}</a>
          <span class="muted">tick</span> ${timeTag(job.scheduleTick, view.now)}`
        : html`<span class="muted">—</span>`
    }</dd>
    <dt>Tags</dt><dd>${job.tags.length === 0 ? html`<span class="muted">—</span>` : job.tags.map((t) => html`<span class="badge">${t}</span> `)}</dd>
  </dl></section>
</div>
<section class="card"><h2>Payload</h2><pre id="payload">${prettyJson(job.payload)}</pre></section>
${Object.keys(job.metadata).length > 0 ? html`<section class="card"><h2>Metadata</h2><pre>${prettyJson(job.metadata)}</pre></section>` : ''}
${job.workflowState !== null ? html`<section class="card"><h2>Workflow state</h2><pre>${prettyJson(job.workflowState)}</pre></section>` : ''}
${editForm(view, job)}
<section class="card"><h2>Attempts with errors (${job.errors.length})</h2>${
    job.errors.length === 0
      ? html`<p class="muted">No attempt has failed.</p>`
      : job.errors
          .slice()
          .reverse()
          .map(
            (
              e,
            ) => html`<div class="attempt"><strong>Attempt ${e.attempt}</strong> · ${absoluteTimeTag(e.at, view.now)}
  <div><span class="mono">${e.name}</span>: ${e.message}</div>
  ${e.stack ? html`<details><summary>Stack trace</summary><pre>${e.stack}</pre></details>` : ''}</div>`,
          )
  }</section>
${logs === null ? '' : html`<section class="card"><h2>Logs</h2><pre>${logs}</pre></section>`}
<section class="card"><h2>Trace context</h2>${
    job.traceContext
      ? html`<pre>${prettyJson(job.traceContext)}</pre>`
      : html`<p class="muted">None recorded.</p>`
  }</section>
</div>`
  return { title: `Job ${job.id}`, section: 'jobs', body }
}

/**
 * The form that changes a waiting or paused job from outside: its workflow state (JSON; `null`
 * clears it) and, for a job a schedule enqueued, that schedule's expression.
 */
function editForm(view: View, job: JobRecord): SafeHtml {
  if (!view.canAct || !CHANGEABLE_STATES.includes(job.state)) return html``
  const state = job.workflowState === null ? '' : prettyJson(job.workflowState)
  return html`<section class="card"><h2>Change</h2>
<form method="post" action="${href(view, `/jobs/${job.id}/edit`)}" class="edit">
  <input type="hidden" name="${CSRF_FIELD}" value="${view.csrf}">
  <input type="hidden" name="back" value="${view.back}">
  <label>Workflow state (JSON the next run reads as <span class="mono">ctx.state</span>; <span class="mono">null</span> clears it; empty leaves it)
    <textarea name="workflowState" rows="4" cols="60" maxlength="100000">${state}</textarea></label>
  ${
    job.scheduleName
      ? html`<label>New expression of schedule <span class="mono">${job.scheduleName}</span> (empty leaves it; this job keeps its run time)
    <input name="expression" maxlength="1000" placeholder="0 4 * * * or @every 1 hour"></label>`
      : ''
  }
  <button type="submit" class="btn">Save</button>
</form></section>`
}

function jobActions(view: View, job: JobRecord): SafeHtml[] {
  const path = (action: string) => `/jobs/${job.id}/${action}`
  const buttons: SafeHtml[] = []
  if (job.state === 'failed' || job.state === 'cancelled' || job.state === 'succeeded') {
    buttons.push(actionForm(view, { path: path('retry'), label: 'Retry' }))
  }
  if (job.state === 'scheduled' || job.state === 'retryable' || job.state === 'paused') {
    buttons.push(actionForm(view, { path: path('run'), label: 'Run now' }))
  }
  if (job.state === 'scheduled' || job.state === 'available' || job.state === 'retryable') {
    buttons.push(actionForm(view, { path: path('pause'), label: 'Pause' }))
  }
  if (job.state === 'paused') {
    buttons.push(actionForm(view, { path: path('resume'), label: 'Resume' }))
  }
  if (job.state !== 'failed' && job.state !== 'cancelled' && job.state !== 'succeeded') {
    buttons.push(
      actionForm(view, {
        path: path('cancel'),
        label: 'Cancel',
        danger: true,
        confirm: `Cancel job ${job.id}?`,
      }),
    )
  }
  if (job.state !== 'running') {
    buttons.push(
      actionForm(view, {
        path: path('delete'),
        label: 'Delete',
        danger: true,
        confirm: `Delete job ${job.id}? This cannot be undone.`,
      }),
    )
  }
  return buttons
}

/** The W3C trace id (second field of `traceparent`), if the job carries one. */
export function traceIdOf(job: JobRecord): string | null {
  const parent = job.traceContext?.traceparent
  const match =
    typeof parent === 'string' ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/i.exec(parent) : null
  return match?.[1] ?? null
}

/** Per-run log lines (`job.logs`, returned by `getJob`), one block per run, or null when none. */
function logsOf(job: JobRecord): string | null {
  const runs = job.logs
  if (!runs || runs.length === 0) return null
  return runs
    .map((run) => {
      const lines = run.lines.map(
        (l) =>
          `${formatTime(l.at)} ${l.level.toUpperCase().padEnd(5)} ${l.message}${l.fields ? ` ${JSON.stringify(l.fields)}` : ''}`,
      )
      if (run.dropped) lines.push(`... ${run.dropped} more lines dropped`)
      return [`Attempt ${run.attempt}`, ...lines].join('\n')
    })
    .join('\n\n')
}
