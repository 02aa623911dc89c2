/** Formatting of times, durations and JSON for the pages (all times in UTC). */
import type { JobRecord } from '../core/domain/job.js'
import type { JsonValue } from '../core/domain/json.js'
import { html, type SafeHtml } from './html.js'

/** `2030-01-01 09:30:00` (UTC), or an em dash for null. */
export function formatTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—'
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

/**
 * A started job's lag: from its due time (`runAt`) to the start of its last attempt (`attemptedAt`,
 * on the store's clock), as the `conveyor_job_lag_seconds` metric measures it. Once the attempt's
 * outcome is written, `attemptedAt` is its handler's start, the wait in a prefetching worker's local
 * buffer included; while the job runs it is still the claim, so a running job's lag is a lower bound.
 * Null for a job that has not started, or whose run time moved after its last attempt (a retry or a
 * snooze waiting, then cancelled).
 */
export function jobLagMs(job: JobRecord): number | null {
  const waiting = job.state === 'scheduled' || job.state === 'available' || job.state === 'retryable'
  if (waiting || job.attemptedAt === null || job.attemptedAt < job.runAt) return null
  return job.attemptedAt - job.runAt
}

/** A job's lag as a short duration, or a muted em dash when it has none (see `jobLagMs`). */
export function lagText(job: JobRecord): SafeHtml {
  const lag = jobLagMs(job)
  return lag === null ? html`<span class="muted">—</span>` : html`${formatDuration(lag)}`
}

/** A short human duration: `850 ms`, `42s`, `3m 12s`, `2h 5m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  const s = Math.floor(abs / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`
  const d = Math.floor(h / 24)
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`
}

/** `3m ago` or `in 5m`, relative to `now`. */
export function formatRelative(ms: number, now: number): string {
  const delta = ms - now
  if (Math.abs(delta) < 1000) return 'now'
  return delta < 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`
}

/** A `<time>` element showing the relative time, with the UTC time as its tooltip. */
export function timeTag(ms: number | null, now: number): SafeHtml {
  if (ms === null || !Number.isFinite(ms)) return html`<span class="muted">—</span>`
  const iso = new Date(ms).toISOString()
  return html`<time datetime="${iso}" title="${formatTime(ms)} UTC">${formatRelative(ms, now)}</time>`
}

/** A `<time>` element showing the UTC time, with the relative time after it. */
export function absoluteTimeTag(ms: number | null, now: number): SafeHtml {
  if (ms === null || !Number.isFinite(ms)) return html`<span class="muted">—</span>`
  const iso = new Date(ms).toISOString()
  return html`<time datetime="${iso}">${formatTime(ms)} UTC</time>
    <span class="muted">(${formatRelative(ms, now)})</span>`
}

/** JSON pretty-printed with two-space indentation. */
export function prettyJson(value: JsonValue | unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null'
}

/** Compact JSON cut to `max` characters with an ellipsis. */
export function previewJson(value: JsonValue | unknown, max = 100): string {
  const text = JSON.stringify(value) ?? 'null'
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** `512 B`, `8.0 kB`, `420 MB`, `1.3 GB` (powers of 1024, as PostgreSQL's pg_size_pretty). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** `1 job` / `3 jobs`. */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`
}
