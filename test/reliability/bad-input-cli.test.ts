/**
 * Bad input to the command line, property-based: generated argument lists with an unknown flag, a
 * missing or malformed value, a stray argument, an unknown command, or injection strings in
 * filters. Each run must end with a usage message on standard error and a non-zero exit code,
 * never a stack trace, and (against a real database) without touching any job.
 *
 * Most runs call the command line's dispatcher in this process (the same `runCli` the `conveyor`
 * binary calls); a sample also runs the real executable as a child process.
 */
import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import type { EnvironmentConfig } from '../../src/cli/config.js'
import type { Output } from '../../src/cli/output.js'
import { runCli } from '../../src/cli/run.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { runCli as runCliProcess } from '../cli/cli-process.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { reliabilityScale, writeScenarioResult } from '../support/reliability-results.js'
import { attackString, badName, numRuns } from './arbitraries.js'

const database = await provideDatabase()
const startedAt = performance.now()
const figures = { runs: 0, refused: 0, processRuns: 0, jobsChecked: 0, jobsChanged: 0 }

/** The flags of each command: string flags take a value, switches do not. */
const COMMANDS: Record<string, { strings: string[]; switches: string[] }> = {
  migrate: { strings: ['schema', 'database-url', 'data-dir'], switches: ['dry-run', 'create'] },
  status: { strings: ['schema', 'database-url', 'data-dir'], switches: ['json', 'create'] },
  retry: {
    strings: ['id', 'queue', 'kind', 'state', 'schema', 'database-url', 'data-dir'],
    switches: ['all', 'force', 'json', 'create'],
  },
  cancel: {
    strings: ['id', 'queue', 'kind', 'state', 'schema', 'database-url', 'data-dir'],
    switches: ['all', 'json', 'create'],
  },
  pause: {
    strings: ['id', 'queue', 'kind', 'state', 'schema', 'database-url', 'data-dir'],
    switches: ['all', 'json', 'create'],
  },
  resume: {
    strings: ['id', 'queue', 'kind', 'state', 'schema', 'database-url', 'data-dir'],
    switches: ['all', 'json', 'create'],
  },
  admin: {
    strings: ['port', 'host', 'user', 'password', 'schema', 'database-url', 'data-dir'],
    switches: ['read-only', 'create'],
  },
  demo: {
    strings: ['port', 'host', 'user', 'password', 'seed', 'rate', 'schema', 'database-url', 'data-dir'],
    switches: ['create'],
  },
}
const NAMES = Object.keys(COMMANDS)

/** Flags that are valid and harmless for a command (they never open a database or a port). */
function noiseFor(command: string): fc.Arbitrary<string[]> {
  const pairs: fc.Arbitrary<string[]>[] = [fc.constant(['--schema', 'conveyor'])]
  if (['retry', 'cancel', 'pause', 'resume'].includes(command)) {
    pairs.push(
      fc.constantFrom(['--state', 'failed'], ['--all'], ['--state', 'cancelled,failed']),
      attackString.map((s) => [`--queue=${s}`]),
      attackString.map((s) => [`--kind=${s}`]),
    )
  }
  if (command === 'status') pairs.push(fc.constant(['--json']))
  if (command === 'migrate') pairs.push(fc.constant(['--dry-run']))
  if (command === 'admin') pairs.push(fc.constantFrom(['--read-only'], ['--host', '127.0.0.1']))
  if (command === 'demo') pairs.push(fc.constantFrom(['--seed', '5'], ['--rate', '0']))
  return fc.array(fc.oneof(...pairs), { maxLength: 3 }).map((list) => list.flat())
}

const flagName = fc
  .string({ minLength: 1, maxLength: 14, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_'.split('')) })
  .filter((name) => !name.startsWith('-'))

/** One mistake that must make the command refuse to run, for `command`. */
function mistakeFor(command: string): fc.Arbitrary<string[]> {
  const spec = COMMANDS[command]!
  const known = [...spec.strings, ...spec.switches, 'help']
  const options: fc.Arbitrary<string[]>[] = [
    flagName.filter((n) => !known.includes(n)).map((n) => [`--${n}`]),
    fc.constantFrom(...spec.strings).map((n) => [`--${n}`]), // a value missing at the end
    fc.tuple(fc.constantFrom(...spec.switches), fc.string({ maxLength: 8 })).map(([n, v]) => [`--${n}=${v}`]),
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((w) => !w.startsWith('-'))
      .map((w) => [w]), // a stray argument
    badSchema.map((s) => [`--schema=${s}`]),
    fc
      .oneof(
        fc.constantFrom('mysql://u@h/db', 'http://x', 'not a url', '', 'postgres//missing-colon'),
        attackString,
      )
      .map((u) => [`--database-url=${u}`]),
    fc.constant(['--database-url', 'postgres://x/y', '--data-dir', 'nowhere']),
  ]
  if (spec.strings.includes('port'))
    options.push(
      fc
        .oneof(
          fc.integer({ min: 65_536 }).map(String),
          fc.constantFrom('-1', 'http', '80.5', '0x50', ''),
          attackString,
        )
        .map((p) => [`--port=${p}`]),
    )
  if (spec.strings.includes('seed'))
    options.push(
      fc
        .tuple(fc.constantFrom('seed', 'rate'), fc.constantFrom('-5', '1e9', 'many', '2000000', '1.5'))
        .map(([n, v]) => [`--${n}=${v}`]),
    )
  if (spec.strings.includes('state'))
    options.push(
      fc
        .oneof(
          fc
            .string({ minLength: 1, maxLength: 12 })
            .filter((s) => s.split(',').some((p) => isUnknownState(p))),
          attackString,
        )
        .map((s) => [`--state=${s}`]),
    )
  if (spec.strings.includes('id'))
    options.push(
      fc
        .oneof(
          fc
            .string({ minLength: 1, maxLength: 12 })
            .filter((s) => s.split(',').some((p) => !/^\s*\d*\s*$/.test(p))),
          fc.constantFrom('99999999999999999999', '-1', '1.5'),
          attackString,
        )
        .map((s) => [`--id=${s}`]),
    )
  return fc.oneof(...options)
}

const STATES = [
  'scheduled',
  'available',
  'running',
  'retryable',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
]
function isUnknownState(part: string): boolean {
  const state = part.trim()
  return state !== '' && !STATES.includes(state)
}

const badSchema = fc.oneof(
  fc.constantFrom('Bad Schema', '1abc', 'a-b', "x'; DROP SCHEMA public CASCADE; --", 'x'.repeat(64), ''),
  attackString,
)

/** A whole command line with one mistake somewhere among harmless flags. */
const badArgv: fc.Arbitrary<string[]> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(...NAMES).chain((command) =>
      fc
        .tuple(noiseFor(command), mistakeFor(command), noiseFor(command))
        // The mistake comes last: a value-less flag or a stray argument only reads as such at the
        // end, and a later valid flag would override a bad value given before it.
        .map(([before, mistake, after]) => [command, ...before, ...after, ...mistake]),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        flagName.filter((n) => !['help', 'version'].includes(n)).map((n) => `--${n}`),
        attackString,
      )
      .filter(
        (c) => !NAMES.includes(c) && !['help', 'version', '-h', '-v', '--help', '--version'].includes(c),
      )
      .map((c) => [c]),
  },
)

/** Runs `conveyor <argv>` in this process, capturing what it prints. */
async function runInProcess(
  argv: readonly string[],
  env: EnvironmentConfig,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const output: Output = {
    line: (text = '') => {
      stdout += `${text}\n`
    },
    error: (text) => {
      stderr += `${text}\n`
    },
    raw: (text) => {
      stdout += text
    },
    interactive: false,
  }
  const code = await runCli(argv, { output, env })
  return { code, stdout, stderr }
}

function expectUsageRefusal(result: { code: number | null; stdout: string; stderr: string }, argv: string[]) {
  const shown = JSON.stringify(argv)
  expect(result.code, shown).not.toBe(0)
  expect(result.code, `${shown}\n${result.stderr}`).toBe(2)
  expect(result.stdout, shown).toBe('')
  expect(result.stderr, shown).toMatch(/^conveyor: /)
  expect(result.stderr, shown).toMatch(/Run `conveyor( \w+)? --help` for usage\./)
  expect(result.stderr, `${shown}\n${result.stderr}`).not.toMatch(/^\s+at /m) // no stack frames
  expect(result.stderr, shown).not.toContain('unexpected error')
}

const NO_DATABASE: EnvironmentConfig = {
  databaseUrl: undefined,
  adminUser: undefined,
  adminPassword: undefined,
  apiTokens: undefined,
}

describe('the command line refuses bad flags', { timeout: 600_000 }, () => {
  it('with a usage message and exit code 2, in process', async () => {
    await fc.assert(
      fc.asyncProperty(badArgv, async (argv) => {
        figures.runs++
        expectUsageRefusal(await runInProcess(argv, NO_DATABASE), argv)
        figures.refused++
      }),
      { numRuns: numRuns('memory') },
    )
  })

  it('with a usage message and exit code 2, as the real executable', async () => {
    const samples = fc.sample(badArgv, { numRuns: reliabilityScale() === 'long' ? 30 : 4 })
    for (const argv of samples) {
      figures.processRuns++
      expectUsageRefusal(await runCliProcess(argv), argv)
    }
  })
})

const suite = 'skip' in database ? describe.skip : describe
if ('skip' in database) console.warn(`[bad-input-cli on postgres skipped] ${database.skip}`)

suite('the command line against a real database', { timeout: 600_000 }, () => {
  const note = defineJob<{ n: number }>({ kind: 'note', queue: 'notes' })
  let pool: pg.Pool
  let queue: PostgresQueue
  let schema: ReturnType<typeof createTestSchema>
  let env: EnvironmentConfig

  beforeAll(async () => {
    if ('skip' in database) return
    pool = new pg.Pool({ connectionString: database.url, max: 3 })
    schema = createTestSchema(database.url, 'conveyor_bad_cli')
    queue = createPostgresQueue({ pool, schema: schema.schema })
    await queue.migrate()
    for (let n = 0; n < 5; n++) await queue.enqueue(note, { n }, n % 2 ? { delayMs: 60_000 } : {})
    env = { databaseUrl: database.url, adminUser: undefined, adminPassword: undefined, apiTokens: undefined }
  })

  afterAll(async () => {
    await queue?.shutdown({ graceMs: 0 })
    await schema?.drop()
    await pool?.end()
  })

  it('refuses injection strings in --queue, --kind, --id and --state, and changes no job', async () => {
    const before = await queue.listJobs({}, { limit: 100 })
    const value = fc.oneof(
      attackString,
      badName.filter((v): v is string => typeof v === 'string'),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('retry', 'cancel', 'pause', 'resume'),
        fc.constantFrom('queue', 'kind', 'id', 'state'),
        value,
        async (command, flag, text) => {
          fc.pre(flag !== 'state' || text.split(',').some(isUnknownState))
          // A generated string can happen to be a valid name (`javascript::`): that one would run.
          fc.pre(!['queue', 'kind'].includes(flag) || !/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/.test(text))
          fc.pre(flag !== 'id' || text.split(',').some((p) => !/^\s*\d*\s*$/.test(p)))
          figures.runs++
          const argv = [command, '--schema', schema.schema, `--${flag}=${text}`]
          expectUsageRefusal(await runInProcess(argv, env), argv)
          figures.refused++
        },
      ),
      { numRuns: numRuns('postgres') },
    )
    const after = await queue.listJobs({}, { limit: 100 })
    figures.jobsChecked += before.length
    figures.jobsChanged += after.filter((job, i) => JSON.stringify(job) !== JSON.stringify(before[i])).length
    expect(after).toEqual(before)
    // The table is still there and still works.
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema.schema}".jobs`)).rows[0].n).toBe(5)
  })
})

afterAll(() => {
  writeScenarioResult({
    scenario: 'bad-input-cli',
    rounds: figures.runs + figures.processRuns,
    faultsInjected: figures.refused + figures.processRuns,
    jobs: figures.jobsChecked,
    lost: 0,
    doubled: figures.jobsChanged,
    durationMs: Math.round(performance.now() - startedAt),
    notes:
      'fast-check command lines with one mistake each (unknown flag or command, missing or bad value, stray argument, injection strings in filters): exit code 2, usage message, no stack trace, no job changed',
    inProcessRuns: figures.runs,
    processRuns: figures.processRuns,
  })
})
