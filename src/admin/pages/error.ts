/** The page shown for bad input, missing jobs and refused actions (never a stack trace). */
import { html } from '../html.js'
import type { PageParts } from '../layout.js'
import { href, type View } from '../view.js'

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Not found',
  413: 'Request too large',
  415: 'Unsupported content type',
}

/** Renders an error page with a message meant for the person using the page. */
export function errorPage(view: View, statusCode: number, message: string): PageParts {
  const title = TITLES[statusCode] ?? (statusCode >= 500 ? 'Something went wrong' : 'Request refused')
  const body = html`<h1>${title}</h1>
<div class="card"><p>${message}</p><p><a href="${href(view, '/')}">Back to the queues</a></p></div>`
  return { title, section: null, body }
}
