/**
 * The store-level conformance suite: every rule of the `JobStore` port, written once and run on
 * every adapter's store with explicit `now` values (River's `riverdrivertest.Exercise`), plus the
 * cases with `now` omitted, where the store keeps the time. Capability
 * flags switch single cases off; changing the port's behaviour means changing these cases.
 */
import { describe, expect, it } from 'vitest'
import attemptStartCases from './cases/attempt-start.js'
import claimCases from './cases/claim.js'
import completeCases from './cases/complete.js'
import finishedJobCases from './cases/finished-jobs.js'
import groupModeCases from './cases/group-modes.js'
import insertCases from './cases/insert.js'
import jobAdminCases from './cases/job-admin.js'
import jobPauseCases from './cases/job-pause.js'
import jobsByKeyCases from './cases/jobs-by-key.js'
import orphanCases from './cases/orphans.js'
import queueCases from './cases/queues.js'
import rescueCases from './cases/rescue.js'
import scheduleCases from './cases/schedules.js'
import slotCases from './cases/slots.js'
import storageHealthCases from './cases/storage-health.js'
import storeTimeCases from './cases/store-time.js'
import timeoutRescueCases from './cases/timeout-rescue.js'
import type { StoreFactory } from './factory.js'

/** Every case module, in the order they run. */
const CASES: readonly ((factory: StoreFactory) => void)[] = [
  insertCases,
  claimCases,
  groupModeCases,
  slotCases,
  completeCases,
  attemptStartCases,
  rescueCases,
  timeoutRescueCases,
  orphanCases,
  jobAdminCases,
  jobsByKeyCases,
  jobPauseCases,
  finishedJobCases,
  queueCases,
  scheduleCases,
  storeTimeCases,
  storageHealthCases,
]

/** Registers the whole store-level suite for `factory` in a `describe` named after it. */
export function runStoreConformance(factory: StoreFactory): void {
  describe(`store conformance: ${factory.name}`, () => {
    it('the store reports the capabilities the factory declares (the flags cases switch on)', async () => {
      expect((await factory.createStore()).capabilities).toEqual(factory.capabilities)
    })
    for (const register of CASES) register(factory)
  })
}
