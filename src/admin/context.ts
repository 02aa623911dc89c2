/** The per-plugin context (settings and where the plugin is mounted) and the per-request view. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { csrfTokenFor } from './csrf.js'
import { takeFlash } from './flash.js'
import { layout, type PageParts } from './layout.js'
import type { AdminSettings } from './options.js'
import { nonceOf } from './security.js'
import type { View } from './view.js'

/** The settings plus where the plugin is mounted. */
export interface AdminContext extends AdminSettings {
  /** The mount prefix without a trailing slash (`''` at the root). */
  readonly prefix: string
  /** Path of the plugin's cookies. */
  readonly cookiePath: string
}

/** Header the live refresh sends: such fetches leave the flash message for the next real page load. */
export const LIVE_HEADER = 'x-conveyor-live'

/** Normalizes a prefix (`/admin/` -> `/admin`, `/` -> ``). */
export function adminContext(settings: AdminSettings, prefix: string): AdminContext {
  const clean = prefix.replace(/\/+$/, '')
  return { ...settings, prefix: clean, cookiePath: clean || '/' }
}

/** A path relative to the prefix that is safe to redirect to (no other host, no scheme), else `/`. */
export function safeBack(back: unknown): string {
  if (typeof back !== 'string' || back.length > 2000) return '/'
  // Dot segments (also percent-encoded) would let a browser resolve the redirect outside the prefix.
  if (/(^|\/)(\.|%2e){1,2}(\/|\?|#|$)/i.test(back)) return '/'
  return /^\/(?![/\\])[^\s\\]*$/.test(back) ? back : '/'
}

/** The current request's path relative to the prefix. */
export function currentPath(ctx: AdminContext, request: FastifyRequest): string {
  const url = request.url.startsWith(ctx.prefix) ? request.url.slice(ctx.prefix.length) : request.url
  return safeBack(url.startsWith('/') ? url : `/${url}`)
}

/** Builds the rendering context of a request (and sets the CSRF cookie when the browser has none). */
export async function makeView(
  ctx: AdminContext,
  request: FastifyRequest,
  reply: FastifyReply,
  back = currentPath(ctx, request),
): Promise<View> {
  return {
    prefix: ctx.prefix,
    now: ctx.queue.clock.now(),
    csrf: csrfTokenFor(request, reply, ctx.secret, ctx.cookiePath),
    canAct: !(await ctx.readOnly(request)),
    back,
  }
}

/** Sends a full HTML page (taking the pending flash message unless this is a live refresh). */
export function sendPage(
  ctx: AdminContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: View,
  page: PageParts,
  statusCode = 200,
): FastifyReply {
  const live = request.headers[LIVE_HEADER] !== undefined
  const flash = live ? null : takeFlash(request, reply, ctx.secret, ctx.cookiePath)
  const document = layout(
    view,
    {
      appTitle: ctx.title,
      nonce: nonceOf(request),
      refreshIntervalMs: ctx.refreshIntervalMs,
      readOnly: !view.canAct,
      flash,
      live,
    },
    page,
  )
  return reply.code(statusCode).type('text/html; charset=utf-8').send(document)
}
