/** Storage health (`storageHealth`, a capability): the catalog reading of the store's own tables. */
import { describe, expect, it } from 'vitest'
import { storageHealthOf } from '../../../src/core/ports/store.js'
import type { StoreFactory } from '../factory.js'
import { claimIds, insertIds, itWith, useStore } from '../helpers.js'

export default function storageHealthCases(factory: StoreFactory): void {
  describe('storage health', () => {
    const store = useStore(factory)

    it('has storageHealth() exactly when its capability says so', () => {
      expect(storageHealthOf(store()) !== null).toBe(factory.capabilities.storageHealth)
    })

    itWith(factory, 'storageHealth', 'reports each table of its schema with sizes, by name', async () => {
      await insertIds(store(), [{}, {}, {}])
      await claimIds(store(), { capacity: 2 })
      const reading = await storageHealthOf(store())!()
      expect(typeof reading.database).toBe('string')
      expect(reading.database.length).toBeGreaterThan(0)
      expect(Number.isFinite(reading.checkedAt)).toBe(true)
      const names = reading.tables.map((t) => t.name)
      expect(names).toEqual([...names].sort())
      expect(names).toEqual(expect.arrayContaining(['jobs', 'queues', 'schedules', 'processes']))
      const jobs = reading.tables.find((t) => t.name === 'jobs')!
      // Indexes of an empty table still take their metapage; the total counts them.
      expect(jobs.indexBytes).toBeGreaterThan(0)
      expect(jobs.totalBytes).toBeGreaterThan(jobs.indexBytes)
      expect(jobs.liveTuples).toBeGreaterThanOrEqual(0)
      expect(jobs.deadTuples).toBeGreaterThanOrEqual(0)
      // The reader's own session is never a holder; whatever else is listed comes oldest first.
      const ages = reading.holders.map((h) => h.xminAge)
      expect(ages).toEqual([...ages].sort((a, b) => b - a))
    })
  })
}
