/** The storage candidates of issue 19 by id, and their labels in reports. */
import { baseline, fewerIndexes, hotClaim, keysetClaim } from './current-table.js'
import { narrowWaiting, rotatingWaiting, withHistory } from './narrow.js'
import { adapterClaimPlainCompletion, sessionLockClaim, sessionLockClaimNoHistory } from './session-lock.js'
import { type Candidate, type CandidateId, candidateLabel } from './types.js'

/** Every candidate, in report order. */
export const CANDIDATES: readonly Candidate[] = [
  baseline,
  narrowWaiting,
  withHistory,
  rotatingWaiting,
  fewerIndexes,
  keysetClaim,
  hotClaim,
  sessionLockClaim,
  adapterClaimPlainCompletion,
  sessionLockClaimNoHistory,
]

/** The candidates' ids, in report order. */
export const CANDIDATE_IDS: readonly CandidateId[] = CANDIDATES.map((c) => c.id)

/** The candidate with this id; throws naming the known ids otherwise. */
export function candidateById(id: string): Candidate {
  const found = CANDIDATES.find((c) => c.id === id)
  if (!found) throw new Error(`unknown candidate ${id}; known: ${CANDIDATE_IDS.join(', ')}`)
  return found
}

/** The W0 config name of a candidate's series. */
export function candidateConfig(id: CandidateId): string {
  return candidateLabel(candidateById(id))
}
