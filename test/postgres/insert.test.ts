import { expect, it } from 'vitest'
import { InvalidPayloadError } from '../../src/core/domain/errors.js'
import { describeStore, newJob, T0, useStore } from './fixture.js'

// The insert's rules are in the store-level suite (test/store/cases/insert.ts); this is what only PostgreSQL refuses.
describeStore('PostgresStore.insertJobs', () => {
  const db = useStore()

  it('rejects a payload PostgreSQL cannot store with InvalidPayloadError', async () => {
    const attempt = db.store.insertJobs({ jobs: [newJob({ payload: { text: 'nul \u0000 byte' } })], now: T0 })
    await expect(attempt).rejects.toBeInstanceOf(InvalidPayloadError)
  })
})
