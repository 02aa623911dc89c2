/**
 * The overview's "Storage health" section: warnings first (what holds the xmin horizon and how to end
 * it), then the holders, then each table's dead tuples, sizes and last vacuum.
 */
import type { AgedHorizonHolder, StorageHealth, TableHealth } from '../../core/domain/storage-health.js'
import { formatBytes, formatDuration, timeTag } from '../format.js'
import { html, type SafeHtml } from '../html.js'
import type { View } from '../view.js'

/** What the section shows: a reading, nothing (the store cannot read it), or a failed read. */
export type StorageHealthState = StorageHealth | null | 'unavailable'

/** Renders the section; empty for a store without storage health. */
export function storageHealthSection(view: View, health: StorageHealthState): SafeHtml {
  if (health === null) return html``
  if (health === 'unavailable') {
    return html`<section id="storage-health"><h2>Storage health</h2>
<div class="card muted">The storage health could not be read right now (the server log has the details).</div></section>`
  }
  const { thresholds } = health
  return html`<section id="storage-health"><h2>Storage health</h2>
${health.warnings.map(
  (w) =>
    html`<div class="flash error" role="alert" data-rule="${w.rule}"><strong>Held xmin horizon.</strong> ${w.message}</div>`,
)}
<div class="card">
${
  health.holders.length === 0
    ? html`<p>Nothing holds the xmin horizon of database <span class="mono">${health.database}</span>: VACUUM can remove every dead row version.</p>`
    : html`<p>Oldest transaction: <strong>${formatDuration(health.oldestTransactionAgeMs)}</strong>. What holds the xmin horizon of database <span class="mono">${health.database}</span>, oldest first:</p>
<table class="holders"><thead><tr><th>Holder</th><th>pid</th><th>Name</th><th>State</th><th class="num">Held for</th>
<th class="num" title="Transactions since the xmin it holds">xmin age</th><th>Query started</th><th>Query</th></tr></thead>
<tbody>${health.holders.map((h) => holderRow(view, h))}</tbody></table>`
}
</div>
<table class="storage-tables"><thead><tr><th>Table</th><th class="num">Live rows</th><th class="num">Dead rows</th>
<th class="num">Size</th><th class="num">Indexes</th><th>Last vacuum</th></tr></thead>
<tbody>${health.tables.map((t) => tableRow(view, health.schema, t))}</tbody></table>
<p class="muted">Read from PostgreSQL's statistics ${timeTag(health.checkedAt, view.now)}. A warning fires when
something has held the xmin horizon for ${formatDuration(thresholds.horizonWarnAfterMs)} or more while a table has
${thresholds.deadTuplesWarnAt.toLocaleString('en-US')} or more dead rows (the <span class="mono">storageHealth</span>
queue options). Dead rows are counted by the statistics collector and by VACUUM, so they may lag a little.</p>
</section>`
}

function holderRow(view: View, h: AgedHorizonHolder): SafeHtml {
  const kind = {
    session: 'session',
    replicationSlot: 'replication slot',
    preparedTransaction: 'prepared transaction',
  }[h.kind]
  return html`<tr data-pid="${h.pid ?? ''}"><td>${kind}</td><td class="mono">${h.pid ?? '—'}</td>
<td class="mono">${h.name || '—'}</td><td>${h.state ?? '—'}</td><td class="num">${formatDuration(h.heldMs)}</td>
<td class="num">${h.xminAge.toLocaleString('en-US')}</td><td>${timeTag(h.queryStartedAt, view.now)}</td>
<td class="mono">${h.query ?? ''}</td></tr>`
}

function tableRow(view: View, schema: string, t: TableHealth): SafeHtml {
  const lastVacuum = Math.max(t.lastVacuumAt ?? 0, t.lastAutovacuumAt ?? 0)
  return html`<tr><td class="mono">${schema}.${t.name}</td><td class="num">${t.liveTuples.toLocaleString('en-US')}</td>
<td class="num">${t.deadTuples.toLocaleString('en-US')}</td><td class="num">${formatBytes(t.totalBytes)}</td>
<td class="num">${formatBytes(t.indexBytes)}</td><td>${lastVacuum === 0 ? html`<span class="muted">never</span>` : timeTag(lastVacuum, view.now)}</td></tr>`
}
