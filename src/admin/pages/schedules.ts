/** The schedules: expression, time zone, next run (and the one after), previous run and last success. */
import { parseScheduleExpression } from '../../core/domain/schedules/expression.js'
import type { ScheduleRecord } from '../../core/ports/store.js'
import { queryString } from '../filter.js'
import { absoluteTimeTag, previewJson, timeTag } from '../format.js'
import { html, type SafeHtml } from '../html.js'
import type { PageParts } from '../layout.js'
import { href, type View } from '../view.js'

/** Renders the schedules page. */
export function schedulesPage(view: View, schedules: readonly ScheduleRecord[]): PageParts {
  const body = html`<h1>Schedules</h1>
<div id="live-schedules" data-live>
${
  schedules.length === 0
    ? html`<div class="card muted">No schedules. Register one with <code>queue.schedule(expression, job, payload)</code>.</div>`
    : html`<table>
  <thead><tr><th>Name</th><th>Expression</th><th>Time zone</th><th>Kind / queue</th><th>Next run</th>
  <th>Previous run</th><th>Last success</th><th>Missed ticks</th><th>Payload</th></tr></thead>
  <tbody>${schedules.map((s) => scheduleRow(view, s))}</tbody>
</table>`
}
</div>`
  return { title: 'Schedules', section: 'schedules', body }
}

function scheduleRow(view: View, s: ScheduleRecord): SafeHtml {
  const following = tickAfter(s)
  return html`<tr>
  <td class="nowrap"><a href="${href(view, `/jobs${queryString({ schedule: s.name })}`)}"><strong>${s.name}</strong></a></td>
  <td class="mono nowrap">${s.expression}</td>
  <td>${s.timezone ?? 'UTC'}</td>
  <td>${s.kind}<div class="muted">${s.jobTemplate.queue}</div></td>
  <td>${
    s.after !== null && s.nextRunAt === null
      ? html`<span class="muted">after ${s.after} succeeds</span>`
      : s.nextRunAt === null
        ? html`<span class="muted">none (fired)</span>`
        : html`${absoluteTimeTag(s.nextRunAt, view.now)}${
            following === null ? '' : html`<div class="muted">then ${timeTag(following, view.now)}</div>`
          }`
  }</td>
  <td>${timeTag(s.lastTickAt, view.now)}</td>
  <td>${timeTag(s.lastSuccessAt, view.now)}</td>
  <td>${s.missedPolicy === 'runOnce' ? 'run once' : 'skip'}</td>
  <td class="mono muted">${previewJson(s.payload, 60)}</td>
</tr>`
}

/** The tick after the next one (null for one-off schedules or expressions that no longer parse). */
function tickAfter(s: ScheduleRecord): number | null {
  if (s.nextRunAt === null) return null
  try {
    const expression = parseScheduleExpression(s.expression, s.timezone ? { timezone: s.timezone } : {})
    return expression.recurring ? expression.nextTick(s.nextRunAt, s.nextRunAt) : null
  } catch {
    return null
  }
}
