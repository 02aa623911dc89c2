/** The confirmation step of a destructive action when the browser did not confirm it (no JavaScript). */
import { CSRF_FIELD } from '../csrf.js'
import { html } from '../html.js'
import type { PageParts } from '../layout.js'
import { href, type View } from '../view.js'

/** What to confirm: the question, the POST route and the fields to post again. */
export interface Confirmation {
  readonly question: string
  readonly path: string
  readonly label: string
  readonly fields: Readonly<Record<string, string>>
}

/** Renders a page that asks the question and posts the same action again, confirmed. */
export function confirmPage(view: View, c: Confirmation): PageParts {
  const hidden = Object.entries(c.fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )
  const body = html`<h1>Please confirm</h1>
<div class="card">
  <p>${c.question}</p>
  <form class="inline" method="post" action="${href(view, c.path)}">
    <input type="hidden" name="${CSRF_FIELD}" value="${view.csrf}">
    <input type="hidden" name="back" value="${view.back}">
    <input type="hidden" name="confirmed" value="1">
    ${hidden}
    <button type="submit" class="btn danger">${c.label}</button>
  </form>
  <a class="btn" href="${href(view, view.back)}">Go back</a>
</div>`
  return { title: 'Confirm', section: null, body }
}
