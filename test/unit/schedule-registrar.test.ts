/**
 * The schedule registrar on the memory store: its argument checks and their messages, a schedule
 * registered again under its name keeping its next run (not another schedule's), and the legacy
 * default name (the kind alone) kept only for a schedule of that kind with the same expression
 * (spaces aside) and payload.
 */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { ScheduleRegistrar } from '../../src/core/runtime/schedule-registrar.js'

const mail = defineJob<{ n: number }>({ kind: 'mail' })
const other = defineJob<{ n: number }>({ kind: 'other' })

function setup() {
  const clock = new ManualClock(0)
  const store = new MemoryStore({ clock })
  return { clock, store, schedules: new ScheduleRegistrar({ store, clock }) }
}

it('checks its arguments, naming them', async () => {
  const { schedules } = setup()
  await expect(schedules.schedule('@daily', mail, { n: 1 }, 5 as never)).rejects.toThrow(/schedule options/)
  await expect(schedules.schedule(5 as never, mail, { n: 1 })).rejects.toThrow(
    'schedule(expression, ...) needs a string expression; got',
  )
  await expect(schedules.schedule('@daily', mail, { n: 1 }, { name: '' })).rejects.toThrow(
    /^schedule name must be/,
  )
  await expect(schedules.unschedule('')).rejects.toThrow(/^schedule name must be/)
  // A mistyped option is named as a schedule option, with the closest one and every option it takes.
  const typo = schedules.schedule('@daily', mail, { n: 1 }, { timeZone: 'UTC' } as never)
  await expect(typo).rejects.toThrow(
    /^schedule options: unknown option "timeZone" \(did you mean "timezone"\?\)\. Known options: name, timezone, missed, startAt, after, queue, priority, /,
  )
  await expect(schedules.schedule('@daily', mail, { n: 1 }, { nam: 'x' } as never)).rejects.toThrow(
    'unknown option "nam" (did you mean "name"?)',
  )
  // A short key two edits from a name suggests nothing (runIn is not runAt's typo).
  await expect(schedules.schedule('@daily', mail, { n: 1 }, { runIn: 5 } as never)).rejects.toThrow(
    /unknown option "runIn"\. Known options/,
  )
  // Enqueue options a schedule cannot take keep their own message.
  await expect(schedules.schedule('@daily', mail, { n: 1 }, { delayMs: 5 } as never)).rejects.toThrow(
    'schedule option delayMs is not supported',
  )
})

it('keeps the next run of a schedule registered again under its name, and of that schedule only', async () => {
  const { clock, store, schedules } = setup()
  await schedules.schedule('@every 1 minute', mail, { n: 1 }, { name: 'first' })
  clock.advance(20_000)
  await schedules.schedule('@every 1 minute', mail, { n: 1 }, { name: 'again' })
  clock.advance(20_000)
  await schedules.schedule('@every 1 minute', mail, { n: 1 }, { name: 'again' })
  const next = Object.fromEntries((await store.listSchedules()).map((s) => [s.name, s.nextRunAt]))
  expect(next).toEqual({ first: 60_000, again: 80_000 })
})

it('keeps a schedule stored under the kind alone when kind, expression (spaces aside) and payload match', async () => {
  const { store, schedules } = setup()
  await schedules.schedule('@every 1 minute', mail, { n: 1 }, { name: 'mail' })
  expect((await schedules.schedule(' @every 1 minute ', mail, { n: 1 })).name).toBe('mail')
  expect((await store.listSchedules()).map((s) => s.name)).toEqual(['mail'])
})

it('gives a new default name when the schedule under the kind alone differs in kind, expression or payload', async () => {
  for (const [job, expression, payload] of [
    [other, '@every 1 minute', { n: 1 }],
    [mail, '@every 2 minutes', { n: 1 }],
    [mail, '@every 1 minute', { n: 2 }],
  ] as const) {
    const { store, schedules } = setup()
    await schedules.schedule(expression, job, payload, { name: 'mail' })
    const made = await schedules.schedule('@every 1 minute', mail, { n: 1 })
    expect(made.name).toMatch(/^mail:[0-9a-f]{8}$/)
    expect(await store.listSchedules()).toHaveLength(2)
  }
})
