/** The page frame: head with nonce'd style and script, navigation, flash message, and the content. */
import { CLIENT_SCRIPT } from './client-script.js'
import type { Flash } from './flash.js'
import { html, raw, type SafeHtml } from './html.js'
import { STYLES } from './styles.js'
import { href, type View } from './view.js'

/** Which navigation entry is current. */
export type Section = 'queues' | 'jobs' | 'schedules' | null

/** What a page puts in the frame. */
export interface PageParts {
  readonly title: string
  readonly section: Section
  readonly body: SafeHtml
}

/** Settings of the frame that come from the plugin options and the request. */
export interface Frame {
  readonly appTitle: string
  readonly nonce: string
  readonly refreshIntervalMs: number
  readonly readOnly: boolean
  readonly flash: Flash | null
  /** A live-refresh fetch: the page without style and script (its nonce is not the open page's). */
  readonly live: boolean
}

/** Renders a whole HTML document. */
export function layout(view: View, frame: Frame, page: PageParts): string {
  const nav = (section: Exclude<Section, null>, path: string, label: string) =>
    html`<a href="${href(view, path)}" class="${page.section === section ? 'active' : ''}">${label}</a>`
  const doc = html`<!doctype html>
<html lang="en" data-refresh-ms="${frame.refreshIntervalMs}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${page.title} · ${frame.appTitle}</title>
${frame.live ? '' : html`<style nonce="${frame.nonce}">${raw(STYLES)}</style>`}
</head>
<body>
<header>
  <a class="brand" href="${href(view, '/')}">${frame.appTitle}</a>
  <nav>${nav('queues', '/', 'Queues')}${nav('jobs', '/jobs', 'Jobs')}${nav('schedules', '/schedules', 'Schedules')}</nav>
  <div class="right">
    ${frame.readOnly ? html`<span class="badge paused">read-only</span>` : ''}
    <button type="button" class="btn" id="live-toggle" aria-pressed="true" hidden>Live refresh: on</button>
  </div>
</header>
<main>
${frame.flash ? html`<div class="flash ${frame.flash.kind}" role="status">${frame.flash.text}</div>` : ''}
${page.body}
</main>
${frame.live ? '' : html`<script nonce="${frame.nonce}">${raw(CLIENT_SCRIPT)}</script>`}
</body>
</html>`
  return doc.value
}

/** A small standalone document for refusals (401/403) that shows nothing of the data. */
export function bareDocument(title: string, message: string): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1><p>${message}</p></body></html>`.value
}
