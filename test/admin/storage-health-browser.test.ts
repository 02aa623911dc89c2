/**
 * The overview's Storage health section in Chromium, on PostgreSQL: it is part of the live-refreshed
 * area, so a session that starts holding the xmin horizon after the page loaded appears, with the
 * warning, without a reload.
 */
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseUrl, skipReason } from '../postgres/fixture.js'
import { browserSkip, launchChromium, listenLocally } from './browser.js'
import { adapters, adminApp } from './helpers.js'

describe.skipIf(browserSkip !== null || skipReason !== null)('storage health in Chromium', () => {
  let browser: Browser
  let app: FastifyInstance
  let close: () => Promise<void>
  let base: string

  beforeAll(async () => {
    browser = await launchChromium()
    const made = await adapters
      .find((a) => a.name === 'postgres')!
      .create(undefined, {
        storageHealth: { horizonWarnAfterMs: 0, deadTuplesWarnAt: 0, cacheMs: 0 },
      })
    close = made.close
    app = await adminApp(made.queue, { refreshIntervalMs: 1000 })
    base = `${await listenLocally(app)}/admin`
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await close?.()
  })

  it('shows a new holder of the horizon on the next live refresh', async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
    const page = await context.newPage()
    const holder = new pg.Client({ connectionString: databaseUrl(), application_name: 'browser-holder' })
    await holder.connect()
    try {
      await page.goto(`${base}/`)
      await page.locator('#storage-health h2', { hasText: 'Storage health' }).waitFor()
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      expect(await page.locator(`tr[data-pid="${pid}"]`).count()).toBe(0)
      await holder.query('BEGIN')
      await holder.query('SELECT txid_current()')
      const row = page.locator(`tr[data-pid="${pid}"]`)
      await row.waitFor({ timeout: 15_000 })
      expect(await row.textContent()).toContain('browser-holder')
      expect(await row.textContent()).toContain('idle in transaction')
      await page.locator('#storage-health [role="alert"]').first().waitFor()
      expect(await page.locator('table.storage-tables').textContent()).toMatch(/\.jobs/)
    } finally {
      await holder.query('ROLLBACK').catch(() => {})
      await holder.end()
      await context.close()
    }
  })
})
