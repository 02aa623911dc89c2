import { describe, expect, it } from 'vitest'
import { CANDIDATE_IDS } from '../../bench/candidates/registry.js'
import { parseArgs } from '../../bench/lib/args.js'
import { selectedCandidates } from '../../bench/workloads/candidate-floor.js'

describe('bench options: W0 storage candidates', () => {
  it('measures every candidate unless --candidates names some', () => {
    expect(parseArgs([]).candidates).toBeNull()
    expect(selectedCandidates(null).map((c) => c.id)).toEqual(CANDIDATE_IDS)
  })

  it('measures only the candidates --candidates names, in its order', () => {
    const options = parseArgs(['--candidates', 'G, baseline'])
    expect(options.candidates).toEqual(['G', 'baseline'])
    expect(selectedCandidates(options.candidates).map((c) => c.id)).toEqual(['G', 'baseline'])
  })

  it('names the known candidates when --candidates names an unknown one', () => {
    expect(() => selectedCandidates(parseArgs(['--candidates', 'Z']).candidates)).toThrow(
      /unknown candidate Z; known: baseline, A, B, C, D, E, F, G, H, I/,
    )
  })
})
