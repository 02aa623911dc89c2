/** What every page renders with (paths, time, CSRF token, whether actions show), and shared widgets. */
import type { JobState } from '../core/domain/job.js'
import { CSRF_FIELD } from './csrf.js'
import { html, type SafeHtml } from './html.js'

/** Per-request rendering context. */
export interface View {
  /** The plugin's prefix (`''` or `/admin`); every link starts with it. */
  readonly prefix: string
  /** The queue clock's time, epoch ms. */
  readonly now: number
  /** Token for the forms of this page. */
  readonly csrf: string
  /** False in read-only mode: no action forms. */
  readonly canAct: boolean
  /** The current page, relative to the prefix (`/jobs?state=failed`), where actions return. */
  readonly back: string
}

/** A link path under the plugin's prefix. */
export function href(view: View, path: string): string {
  return `${view.prefix}${path}`
}

/** What an action button looks like and does. */
export interface ActionButton {
  /** Path of the POST route, relative to the prefix. */
  readonly path: string
  readonly label: string
  /** When set, the browser asks this before posting (and the server asks again without JavaScript). */
  readonly confirm?: string
  readonly danger?: boolean
  /** Extra hidden fields (the filter of a bulk action). */
  readonly fields?: Readonly<Record<string, string>>
}

/** A one-button POST form carrying the CSRF token and where to return; nothing in read-only mode. */
export function actionForm(view: View, action: ActionButton): SafeHtml {
  if (!view.canAct) return html``
  const hidden = Object.entries(action.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )
  return html`<form class="inline" method="post" action="${href(view, action.path)}"
    ${action.confirm ? html`data-confirm="${action.confirm}"` : ''}>
    <input type="hidden" name="${CSRF_FIELD}" value="${view.csrf}">
    <input type="hidden" name="back" value="${view.back}">
    <input type="hidden" name="confirmed" value="">
    ${hidden}
    <button type="submit" class="${action.danger ? 'btn danger' : 'btn'}">${action.label}</button>
  </form>`
}

/** A colored badge for a job state. */
/** The badge of a due waiting job whose queue and kind no live process serves. */
export const ORPHAN_BADGE: SafeHtml = html`<span class="badge orphaned" title="No live process runs a worker for this queue with a handler for this kind: nothing will run it">orphaned</span>`

export function stateBadge(state: JobState): SafeHtml {
  return html`<span class="badge s-${state}">${state}</span>`
}
