/**
 * `ClaimCursors` on a fake monotonic clock: where each claim of a loop starts, when it scans from
 * the front, and how the jobs it took move the cursor (the SQL side is test/postgres/claim-cursor.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { ClaimCursors, FRONT, resolveClaimCursorOptions } from '../../src/adapters/postgres/claim-cursor.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { ClaimParams } from '../../src/core/ports/store.js'

const params = (fields: Partial<ClaimParams> = {}): ClaimParams => ({
  queues: ['q'],
  kinds: ['k'],
  capacity: 10,
  strategy: 'priority',
  workerId: 'w',
  resume: true,
  ...fields,
})
const job = (queue: string, priority: number, runAt: number) => ({ queue, priority, runAt }) as JobRecord
const groupJob = (id: number, priority: number, runAt: number) =>
  ({ id: String(id), queue: 'q', priority, runAt, groupKey: 'g' }) as JobRecord

describe('ClaimCursors', () => {
  function setup(fullScanIntervalMs = 1000, lookbackMs = 100) {
    let now = 0
    const cursors = new ClaimCursors({ fullScanIntervalMs, lookbackMs }, () => now)
    return { cursors, advance: (ms: number) => (now += ms) }
  }

  it('starts at the front, then at the last job taken less the lookback, and at the front again each interval', () => {
    const { cursors, advance } = setup()
    const first = cursors.plan(params(), ['q'])
    expect(first.starts).toEqual([FRONT])
    first.taken([job('q', 2, 5000), job('q', 1, 9000), job('q', 2, 4000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 2, runAt: 4900 }])
    advance(999)
    const behind = cursors.plan(params(), ['q'])
    expect(behind.starts).toEqual([{ priority: 2, runAt: 4900 }])
    // A cursor claim never moves the cursor back.
    behind.taken([job('q', 0, 1)])
    advance(1)
    const full = cursors.plan(params(), ['q'])
    expect(full.starts).toEqual([FRONT])
    // A full scan's last job becomes the cursor, even behind the old one.
    full.taken([job('q', 0, 10)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 0, runAt: -90 }])
    // A full scan that took nothing in a queue leaves its cursor.
    advance(1000)
    cursors.plan(params(), ['q']).taken([])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 0, runAt: -90 }])
  })

  it('slow full scans put the next one off: at most one per 100 times their duration, at most 15 s apart', () => {
    const { cursors, advance } = setup()
    /** A full scan now that takes `ms`; returns when it began. */
    const fullScan = (ms: number) => {
      const plan = cursors.plan(params(), ['q'])
      expect(plan.starts).toEqual([FRONT])
      advance(ms)
      plan.taken([job('q', 0, 100)])
    }
    // Quick full scans (2 ms): the interval stays 1 s.
    fullScan(2)
    advance(998)
    fullScan(2)
    advance(997)
    expect(cursors.plan(params(), ['q']).starts).not.toEqual([FRONT])
    advance(1)
    // Two slow ones (50 ms each, as the walk of a held horizon's dead entries takes): the next waits 5 s.
    fullScan(50)
    advance(950)
    fullScan(50)
    advance(4949)
    expect(cursors.plan(params(), ['q']).starts).not.toEqual([FRONT])
    advance(1)
    // Two of 2 s each: the next comes 15 s after the last began (the cap), not 200 s after.
    fullScan(2000)
    advance(3000)
    fullScan(2000)
    advance(12_999)
    expect(cursors.plan(params(), ['q']).starts).not.toEqual([FRONT])
    advance(1)
    fullScan(1)
    // Lost notifications still bring the next full scan at once.
    cursors.rescanAll()
    expect(cursors.plan(params(), ['q']).starts).toEqual([FRONT])
  })

  it('starts at least 1 ms behind the key with lookbackMs 0 (keys are whole ms, run_at has microseconds)', () => {
    const { cursors } = setup(1000, 0)
    cursors.plan(params(), ['q']).taken([job('q', 1, 5000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 4999 }])
  })

  it('keeps a cursor per queue; time strategy bounds run_at only', () => {
    const { cursors } = setup()
    cursors.plan(params({ strategy: 'time' }), ['a', 'b']).taken([job('a', 9, 50), job('a', 0, 300)])
    expect(cursors.plan(params({ strategy: 'time' }), ['a', 'b']).starts).toEqual([
      { priority: FRONT.priority, runAt: 200 },
      FRONT,
    ])
  })

  it('separates loops by worker, strategy and kinds; other claims and drains scan from the front', () => {
    const { cursors } = setup()
    cursors.plan(params(), ['q']).taken([job('q', 1, 1000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 900 }])
    for (const other of [
      { workerId: 'w2' },
      { strategy: 'time' as const },
      { kinds: ['k', 'k2'] },
      { resume: false },
      { maxId: '5' },
      { dueBy: 10 },
    ]) {
      expect(cursors.plan(params(other), ['q']).starts, JSON.stringify(other)).toEqual([FRONT])
    }
  })

  it('with fullScanIntervalMs 0 every claim starts at the front', () => {
    const { cursors } = setup(0)
    cursors.plan(params(), ['q']).taken([job('q', 1, 1000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([FRONT])
  })

  it('a notified key before the cursor is where the next plan starts, once, and that claim may move the cursor back', () => {
    const { cursors } = setup()
    cursors.plan(params(), ['q']).taken([job('q', 5, 5000)])
    cursors.notified(new Map([['q', { priority: 1, runAt: 7000 }]]))
    const rewound = cursors.plan(params(), ['q'])
    expect(rewound.starts).toEqual([{ priority: 1, runAt: 6999 }])
    rewound.taken([job('q', 1, 7000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 6900 }])
    // Not ahead of the cursor's start: nothing changes (the lookback covers it).
    cursors.notified(new Map([['q', { priority: 1, runAt: 6950 }]]))
    const plain = cursors.plan(params(), ['q'])
    expect(plain.starts).toEqual([{ priority: 1, runAt: 6900 }])
    plain.taken([job('q', 0, 1)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 6900 }])
  })

  it("a notified key exactly at the cursor's start is no rewind: that claim does not move the cursor back", () => {
    for (const strategy of ['priority', 'time'] as const) {
      const { cursors } = setup()
      cursors.plan(params({ strategy }), ['q']).taken([job('q', 1, 5000)])
      const start =
        strategy === 'priority' ? { priority: 1, runAt: 4900 } : { priority: FRONT.priority, runAt: 4900 }
      // The notified key is 1 ms after where its claim starts.
      cursors.notified(new Map([['q', { priority: 1, runAt: 4901 }]]))
      const plan = cursors.plan(params({ strategy }), ['q'])
      expect(plan.starts, strategy).toEqual([start])
      plan.taken([job('q', 0, 1)])
      expect(cursors.plan(params({ strategy }), ['q']).starts, strategy).toEqual([start])
    }
  })

  it('a claim in flight when the notification comes cannot move the cursor past the notified key', () => {
    const { cursors } = setup()
    cursors.plan(params(), ['q']).taken([job('q', 5, 5000)])
    const inFlight = cursors.plan(params(), ['q'])
    cursors.notified(new Map([['q', { priority: 1, runAt: 7000 }]]))
    cursors.notified(new Map([['q', { priority: 2, runAt: 1000 }]]))
    inFlight.taken([job('q', 5, 9000)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 6999 }])
  })

  it('keeps notifications for the loops of their queues; null starts at the front; time orders by run time only', () => {
    const { cursors } = setup()
    cursors.plan(params({ strategy: 'time' }), ['a', 'b']).taken([job('a', 9, 5000), job('b', 9, 5000)])
    cursors.plan(params({ workerId: 'other' }), ['c']).taken([job('c', 9, 5000)])
    cursors.notified(
      new Map([
        ['a', { priority: -5, runAt: 4950 }],
        ['b', null],
        ['c', { priority: 0, runAt: 3000 }],
        ['d', null],
      ]),
    )
    expect(cursors.plan(params({ strategy: 'time' }), ['a', 'b']).starts).toEqual([
      { priority: FRONT.priority, runAt: 4900 },
      FRONT,
    ])
    expect(cursors.plan(params({ workerId: 'other' }), ['c']).starts).toEqual([{ priority: 0, runAt: 2999 }])
    // A queue no loop claims from is not kept: a loop that starts claiming it later is not rewound.
    cursors.plan(params({ workerId: 'other' }), ['d']).taken([job('d', 9, 5000)])
    expect(cursors.plan(params({ workerId: 'other' }), ['d']).starts).toEqual([{ priority: 9, runAt: 4900 }])
  })

  it('after lost notifications (rescanAll) every loop scans from the front next', () => {
    const { cursors } = setup()
    cursors.plan(params(), ['q']).taken([job('q', 5, 5000)])
    cursors.rescanAll()
    expect(cursors.plan(params(), ['q']).starts).toEqual([FRONT])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 5, runAt: 4900 }])
  })

  it("builds a claim loop's id once per kinds array, not per claim; another array with the same kinds is the same loop", () => {
    const { cursors } = setup()
    let joins = 0
    const kinds = ['a', 'b']
    const join = kinds.join.bind(kinds)
    Object.defineProperty(kinds, 'join', {
      value: (sep?: string) => {
        joins++
        return join(sep)
      },
    })
    cursors.plan(params({ kinds }), ['q']).taken([job('q', 1, 5000)])
    for (let i = 0; i < 5; i++) cursors.plan(params({ kinds }), ['q'])
    expect(joins).toBe(1)
    expect(cursors.plan(params({ kinds: ['a', 'b'] }), ['q']).starts).toEqual([{ priority: 1, runAt: 4900 }])
  })

  it('refuses a claimCursor that is not an object with a message showing its shape', () => {
    for (const value of ['fast', 5, null, [], [1000]]) {
      expect(() => resolveClaimCursorOptions(value), String(value)).toThrow(InvalidArgumentError)
      expect(() => resolveClaimCursorOptions(value), String(value)).toThrow(
        /^claimCursor must be an object such as \{ fullScanIntervalMs: 1000, lookbackMs: 0 \}/,
      )
    }
  })

  it("a finished group job moves its loop's cursor back to its key, never forward", () => {
    const { cursors, advance } = setup()
    cursors.plan(params(), ['q']).taken([groupJob(1, 5, 5000)])
    // A full scan takes a job before the group job: the cursor moves back to it.
    advance(1000)
    cursors.plan(params(), ['q']).taken([job('q', 1, 100)])
    cursors.finished([{ id: '1' }])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 0 }])
  })

  it("a claim in flight when a group job finishes cannot move the cursor past the group's key", () => {
    const { cursors } = setup(1000, 0)
    cursors.plan(params(), ['q']).taken([groupJob(1, 0, 10)])
    const inFlight = cursors.plan(params(), ['q'])
    cursors.finished([{ id: '1' }])
    inFlight.taken([job('q', 0, 60)])
    // The next claim starts at the finished group job's key (its group's next job sits after it).
    const next = cursors.plan(params(), ['q'])
    expect(next.starts).toEqual([{ priority: 0, runAt: 9 }])
    next.taken([job('q', 0, 11)])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 0, runAt: 10 }])
  })

  it('a claim planned before a full scan or a notified claim, and returning after it, does not move the cursor past what that claim left', () => {
    for (const how of ['full scan', 'notified'] as const) {
      const { cursors, advance } = setup(1000, 0)
      cursors.plan(params(), ['q']).taken([job('q', 0, 100)])
      const early = cursors.plan(params(), ['q'])
      if (how === 'full scan') advance(1000)
      else cursors.notified(new Map([['q', { priority: 0, runAt: 5 }]]))
      const back = cursors.plan(params(), ['q'])
      expect(back.starts[0]!.runAt, how).toBeLessThan(5)
      // Its LIMIT left jobs after 4: the cursor goes back to 4...
      back.taken([job('q', 0, 4)])
      // ...and the claim planned before it, returning now with later jobs, leaves it there.
      early.taken([job('q', 0, 119)])
      expect(cursors.plan(params(), ['q']).starts, how).toEqual([{ priority: 0, runAt: 3 }])
      // Claims planned after it move the cursor on as usual.
      const later = cursors.plan(params(), ['q'])
      later.taken([job('q', 0, 50)])
      expect(cursors.plan(params(), ['q']).starts, how).toEqual([{ priority: 0, runAt: 49 }])
    }
  })

  it('a claim that failed gives back its notified start and its full scan', () => {
    const { cursors, advance } = setup(1000, 0)
    cursors.plan(params(), ['q']).taken([job('q', 0, 100)])
    cursors.notified(new Map([['q', { priority: 0, runAt: 5 }]]))
    const failed = cursors.plan(params(), ['q'])
    expect(failed.starts).toEqual([{ priority: 0, runAt: 4 }])
    failed.failed()
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 0, runAt: 4 }])
    advance(1000)
    const full = cursors.plan(params(), ['q'])
    expect(full.starts).toEqual([FRONT])
    full.failed()
    expect(cursors.plan(params(), ['q']).starts).toEqual([FRONT])
  })

  it('one slow full scan alone (a stall) does not put the next off: it takes two in a row', () => {
    const { cursors, advance } = setup(1000, 0)
    const first = cursors.plan(params(), ['q'])
    advance(600)
    first.taken([job('q', 0, 100)])
    advance(400)
    // 600 ms once, say a pause of the event loop: the next full scan is still due after 1 s.
    const second = cursors.plan(params(), ['q'])
    expect(second.starts).toEqual([FRONT])
    advance(80)
    second.taken([job('q', 0, 100)])
    advance(920)
    // Two slow ones in a row (600, then 80 ms): the next waits 100 times the shorter.
    expect(cursors.plan(params(), ['q']).starts).not.toEqual([FRONT])
    advance(7000)
    expect(cursors.plan(params(), ['q']).starts).toEqual([FRONT])
  })

  it('keeps loops of kinds arrays with the same letters apart', () => {
    const { cursors } = setup()
    cursors.plan(params({ kinds: ['a', 'b'] }), ['q']).taken([job('q', 1, 5000)])
    expect(cursors.plan(params({ kinds: ['ab'] }), ['q']).starts).toEqual([FRONT])
    expect(cursors.plan(params({ kinds: ['a', 'b'] }), ['q']).starts).toEqual([{ priority: 1, runAt: 4900 }])
  })

  it('remembers the last 10,000 running group jobs: a finished job older than those moves no cursor', () => {
    const { cursors } = setup()
    const jobs = Array.from({ length: 10_001 }, (_, i) => groupJob(i + 1, 1, 1000 + i))
    cursors.plan(params(), ['q']).taken(jobs)
    cursors.finished([{ id: '1' }])
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 11_000 - 100 }])
    cursors.finished([{ id: '2' }])
    // 1 ms behind the finished job's key.
    expect(cursors.plan(params(), ['q']).starts).toEqual([{ priority: 1, runAt: 1001 - 1 }])
  })
})
