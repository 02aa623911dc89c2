/**
 * fast-check generators of bad (and good) input for the reliability suite's property tests: values
 * that are not JSON, names and options of the wrong type or out of range, attack strings for the
 * admin page. Each `bad...` generator only yields values the library must refuse.
 */
import fc from 'fast-check'
import { JOB_STATES } from '../../src/core/domain/job.js'
import type { JsonValue } from '../../src/core/domain/json.js'
import { reliabilityScale } from '../support/reliability-results.js'

/** Runs per property: modest in `npm test`, large with `RELIABILITY_SCALE=long`. */
export function numRuns(adapter: 'memory' | 'postgres' | 'process'): number {
  const long = reliabilityScale() === 'long'
  if (adapter === 'memory') return long ? 5000 : 100
  if (adapter === 'postgres') return long ? 500 : 30
  return long ? 300 : 25
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/
const ID = /^[1-9][0-9]{0,18}$/

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Anything that is not a string (for fields that need one). */
export const nonString: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.constant(Symbol('s')),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.constant(() => 'fn'),
  fc.constant(new Date(0)),
)

/** Anything that is not a number. */
export const nonNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.constant(Symbol('n')),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({ valueOf: () => 5 }),
  fc.constant(() => 5),
)

/** Numbers that are not integers in [min, max], and non-numbers. */
export function badInt(min: number, max: number): fc.Arbitrary<unknown> {
  const INT32 = 2_147_483_647
  return fc.oneof(
    max < INT32 ? fc.integer({ min: max + 1 }) : fc.constant(2 * max + 2),
    min > -INT32 ? fc.integer({ max: min - 1 }) : fc.constant(2 * min - 2),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1e300),
    fc.double({ min, max, noNaN: true }).filter((n) => !Number.isInteger(n)),
    nonNumber,
  )
}

/** Values that are not valid kind, queue or schedule names (wrong type, empty, too long, bad characters). */
export const badName: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 200 }).filter((s) => !NAME.test(s)),
  fc.string({ minLength: 129, maxLength: 300, unit: fc.constantFrom('a', 'b', '1') }),
  fc.constantFrom('', ' ', 'a b', '-lead', '.lead', "q'; DROP TABLE jobs; --", 'é', 'a/b', '<script>'),
  nonString,
)

/** Strings both adapters must refuse: a \u0000 or a lone UTF-16 surrogate somewhere in them. */
export const unstorableString: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ maxLength: 10 }),
    fc.oneof(
      fc.constant('\u0000'),
      fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    ),
    fc.string({ maxLength: 10 }),
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`)

function nestedArray(depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

function cyclic(): unknown {
  const a: Record<string, unknown> = { a: 1 }
  a.self = { back: a }
  return a
}

/** A single value that is not JSON, or cannot be stored (functions, bigints, NaN, cycles, ...). */
export const nonJsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(() => 1),
  fc.constant(Symbol('x')),
  fc.bigInt(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.date({ noInvalidDate: false }),
  fc.constant(new Map([['a', 1]])),
  fc.constant(new Set([1])),
  fc.constant(/re/),
  fc.constant(new Point(1, 2)),
  fc.constant(new Uint8Array([1, 2])),
  fc.constant(new Error('e')),
  fc.constant(Promise.resolve(1)),
  fc.constant({ [Symbol('k')]: 1 }),
  fc.integer({ min: 300, max: 20_000 }).map(nestedArray),
  fc.constant(null).map(cyclic),
  fc.constant(null).map(() =>
    Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter exploded')
      },
    }),
  ),
  fc.constant(null).map(
    () =>
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('trap exploded')
          },
        },
      ),
  ),
  unstorableString,
  unstorableString.map((key) => ({ [key]: 1 })),
)

/** A path into a JSON document: object keys and array positions. */
const path = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat({ max: 3 })), { maxLength: 4 })

/** A JSON document with one bad value hidden at a random depth among valid siblings. */
export const nonJsonValue: fc.Arbitrary<unknown> = fc
  .tuple(nonJsonLeaf, path, fc.jsonValue({ maxDepth: 2 }))
  .map(([leaf, steps, sibling]) => {
    let value: unknown = leaf
    for (const step of steps.reverse()) {
      if (typeof step === 'number') {
        const array: unknown[] = Array.from({ length: step }, () => sibling)
        array.push(value)
        value = array
      } else {
        const object: Record<string, unknown> = { sibling }
        Object.defineProperty(object, step, { value, enumerable: true, writable: true, configurable: true })
        value = object
      }
    }
    return value
  })

/** Plain JSON that both adapters must store and give back unchanged (JSON semantics: -0 reads 0). */
export const storableJson: fc.Arbitrary<JsonValue> = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>

const badTime = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1e300),
  fc.double({ min: 253_402_300_800_000, max: 8.64e15, noNaN: true }),
  fc.double({ min: -8.64e15, max: -62_135_596_800_001, noNaN: true }),
  fc.constant(new Date(Number.NaN)),
  fc.string(),
  fc.constant(null),
  fc.bigInt(),
)

/** An enqueue option set to a value it must refuse, or an option that does not exist. */
export const badEnqueueOption: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constant('queue'), badName),
  fc.tuple(fc.constant('priority'), badInt(-32768, 32767)),
  fc.tuple(fc.constant('maxAttempts'), badInt(1, 10_000)),
  fc.tuple(fc.constant('timeoutMs'), badInt(0, 2_147_483_647)),
  fc.tuple(fc.constant('weight'), badInt(1, 10_000)),
  fc.tuple(
    fc.constantFrom('uniqueKey', 'groupKey'),
    fc.oneof(
      fc.constant(''),
      fc.string({ minLength: 513, maxLength: 600 }),
      unstorableString,
      nonString.filter((v) => v !== null),
    ),
  ),
  fc.tuple(fc.constant('runAt'), badTime),
  fc.tuple(
    fc.constant('delayMs'),
    fc.oneof(
      fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1e300, 4e13),
      nonNumber,
    ),
  ),
  fc.tuple(
    fc.constant('dependsOn'),
    fc.oneof(
      fc.string().filter((s) => !ID.test(s)),
      fc.array(
        fc.string().filter((s) => !ID.test(s)),
        { minLength: 1, maxLength: 3 },
      ),
      fc.constantFrom(0, 5, null, {}, ['1', 2], ['0']),
    ),
  ),
  fc.tuple(
    fc.constant('metadata'),
    fc.oneof(
      fc.constantFrom(null, 'meta', 5, [1, 2], true),
      nonJsonValue.map((v) => ({ m: v })),
    ),
  ),
  fc.tuple(
    fc.constant('tags'),
    fc.oneof(
      fc.constantFrom('tag', 5, null, {}),
      fc.array(fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 140 }), unstorableString), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.array(nonString, { minLength: 1, maxLength: 3 }),
    ),
  ),
  // (undefined would mean no state)
  fc.tuple(
    fc.constant('state'),
    nonJsonValue.filter((v) => v !== undefined),
  ),
  fc.tuple(
    fc.constant('backoff'),
    fc.oneof(
      fc.constantFrom(null, 'exp', 5, () => 1000),
      fc.record({
        baseMs: fc.oneof(
          fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
          fc.double({ min: 3_600_001, max: 1e300, noNaN: true }), // above the default maxMs
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
          nonNumber.filter((v) => v !== null),
        ),
      }),
      fc.record({ factor: fc.constantFrom(-1, Number.NaN, 'x', Number.POSITIVE_INFINITY) }),
      fc.record({ jitter: fc.constantFrom(-0.5, 1.5, Number.NaN, 'x') }),
      fc.record({ bogus: fc.integer() }),
    ),
  ),
  fc.tuple(fc.constant('tx'), fc.constantFrom(null, 5, 'client', {}, { query: 'SELECT 1' })),
  fc.tuple(
    fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !ENQUEUE_OPTION_KEYS.includes(k)),
    fc.anything(),
  ),
)

const ENQUEUE_OPTION_KEYS = [
  'queue',
  'priority',
  'runAt',
  'delayMs',
  'maxAttempts',
  'timeoutMs',
  'weight',
  'uniqueKey',
  'groupKey',
  'dependsOn',
  'metadata',
  'tags',
  'state',
  'backoff',
  'tx',
  // Inherited members of every object: refusing them as unknown keys is fine, but they are not
  // "unknown" in the `in` sense, so keep them out of the generator.
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
]

/** Enqueue options the library must refuse: one bad option, or not an object at all. */
export const badEnqueueOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: badEnqueueOption.map(([key, value]) => objectWith(key, value)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, 'opts', 5, true, [], [{ queue: 'a' }], () => ({})),
  },
  { weight: 1, arbitrary: fc.constant({ runAt: Date.UTC(2030, 0, 1), delayMs: 10 }) },
)

/** An object with one own property, even for keys such as `__proto__`. */
export function objectWith(key: string, value: unknown): Record<string, unknown> {
  return Object.defineProperty({}, key, { value, enumerable: true, writable: true, configurable: true })
}

/** `defineJob` inputs the library must refuse. */
export const badDefinition: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, 'send-email', 5, [], () => ({})),
  badName.map((kind) => ({ kind })),
  fc.constant({}),
  fc
    .oneof(
      fc.tuple(fc.constant('queue'), badName),
      fc.tuple(fc.constant('priority'), badInt(-32768, 32767)),
      fc.tuple(fc.constant('maxAttempts'), badInt(1, 10_000)),
      fc.tuple(fc.constant('timeoutMs'), badInt(0, 2_147_483_647)),
      fc.tuple(fc.constant('weight'), badInt(1, 10_000)),
      fc.tuple(
        fc.constant('backoff'),
        fc.constantFrom(null, 'x', 5, { baseMs: -1 }, { factor: 'x' }, { jitter: 2 }, { nope: 1 }),
      ),
      fc.tuple(
        fc.constant('schema'),
        fc.constantFrom(null, 5, 'zod', {}, { '~standard': {} }, () => true),
      ),
      fc.tuple(
        fc
          .string({ minLength: 1, maxLength: 12 })
          .filter(
            (k) =>
              ![
                'kind',
                'schema',
                'queue',
                'priority',
                'maxAttempts',
                'timeoutMs',
                'weight',
                'backoff',
              ].includes(k),
          ),
        fc.anything(),
      ),
    )
    .map(([key, value]) => ({ kind: 'valid-kind', ...objectWith(key, value) })),
)

/** Schedule expressions that are certainly invalid. */
export const badScheduleExpression: fc.Arbitrary<unknown> = fc.oneof(
  nonString,
  fc.constantFrom(
    '',
    ' ',
    '*',
    '* * * *',
    '* * * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 32 * *',
    '* * * 13 *',
    '* * * * 8',
    '0 0 30 2 *',
    '@every',
    '@every 0s',
    '@every -5 minutes',
    '@every 1 fortnight',
    '@every 0.0001s',
    '@after',
    '@after 0s',
    '@at',
    '@at yesterday',
    '@every 1.5 months',
    '@at 2030-13-45T99:99:99Z',
    '@hourlyy',
    '@reboot',
    "'; DROP TABLE schedules; --",
  ),
  fc.string({ minLength: 1, maxLength: 30, unit: fc.constantFrom('x', 'q', '!', '?', '#', '%') }),
  fc.integer({ min: 60, max: 10_000 }).map((n) => `${n} * * * *`),
  fc.integer({ min: 2, max: 1e6 }).map((n) => `@every ${n} parsecs`),
  fc.string({ minLength: 5_000, maxLength: 20_000, unit: fc.constantFrom('*', ' ', '1') }),
)

/** Time zones no runtime knows. */
export const badTimezone: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).filter((tz) => !isKnownTimezone(tz)),
  fc.constantFrom('Mars/Olympus_Mons', 'UTC+25', 'Europe/Pariss', '../../etc/passwd', ''),
  nonString.filter((v) => v !== null),
)

function isKnownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** Schedule options the library must refuse. */
export const badScheduleOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'daily', 5, [], () => ({})),
  badName.filter((n) => n !== undefined).map((name) => ({ name })),
  badTimezone.map((timezone) => ({ timezone })),
  fc.constantFrom('run-once', 'never', 5, null, true).map((missed) => ({ missed })),
  fc
    .constantFrom('runAt', 'delayMs', 'uniqueKey', 'dependsOn')
    .map((key) => objectWith(key, key === 'runAt' ? 0 : '1')),
  badEnqueueOption
    .filter(
      ([key]) =>
        !['runAt', 'delayMs', 'uniqueKey', 'dependsOn', 'tx', 'name', 'timezone', 'missed'].includes(key),
    )
    .map(([key, value]) => objectWith(key, value)),
)

const FILTER_KEYS = [
  'ids',
  'queue',
  'kind',
  'states',
  'payloadContains',
  'payloadIncludes',
  'createdAfter',
  'createdBefore',
  'groupKey',
  'uniqueKey',
  'scheduleName',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
]

/** Job filters the library must refuse. */
export const badFilter: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'failed', 5, [], [{ queue: 'a' }], () => ({})),
  fc
    .oneof(
      fc.tuple(
        fc.constant('ids'),
        fc.oneof(
          fc.constantFrom(
            '1',
            1,
            null,
            {},
            [1],
            ['1', null],
            ['99999999999999999999'],
            ['9999999999999999999'],
          ),
          fc.array(
            fc.string().filter((s) => !/^[0-9]{1,19}$/.test(s)),
            { minLength: 1, maxLength: 3 },
          ),
        ),
      ),
      fc.tuple(fc.constantFrom('queue', 'kind'), badName),
      fc.tuple(
        fc.constant('states'),
        fc.oneof(
          fc.constantFrom('failed', 5, null, {}),
          fc.array(
            fc.string().filter((s) => !(JOB_STATES as readonly string[]).includes(s)),
            { minLength: 1, maxLength: 3 },
          ),
        ),
      ),
      fc.tuple(
        fc.constantFrom('payloadContains', 'groupKey', 'uniqueKey', 'scheduleName'),
        fc.oneof(fc.string({ minLength: 1001, maxLength: 1100 }), unstorableString, nonString),
      ),
      fc.tuple(fc.constantFrom('createdAfter', 'createdBefore'), badTime),
      fc.tuple(
        fc.string({ minLength: 1, maxLength: 16 }).filter((k) => !FILTER_KEYS.includes(k)),
        fc.anything(),
      ),
    )
    .map(([key, value]) => objectWith(key, value)),
)

/** Paging arguments of `listJobs` the library must refuse. */
export const badPage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'next', 5, [], () => ({})),
  badInt(1, 10_000).map((limit) => ({ limit })),
  fc
    .oneof(
      fc.string().filter((s) => !/^[0-9]{1,19}$/.test(s)),
      fc.constantFrom(5, null, {}, [], -1),
    )
    .map((beforeId) => ({ beforeId })),
  fc.constantFrom({ cursor: '5' }, { offset: 10 }, { limit: 10, sort: 'asc' }),
)

/** Options of `drain` the library must refuse. */
export const badDrainOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'all', 5, [], () => ({})),
  badInt(1, Number.MAX_SAFE_INTEGER).map((limit) => ({ limit })),
  fc
    .constantFrom('withScheduled', 'recursive')
    .chain((key) => fc.constantFrom('yes', 1, null, {}).map((v) => objectWith(key, v))),
  fc
    .oneof(fc.constantFrom('default', 5, null, {}), fc.array(badName, { minLength: 1, maxLength: 3 }))
    .map((queues) => ({ queues })),
  fc.constantFrom({ timeoutMs: 5 }, { concurrency: 2 }),
)

/** Options of `shutdown` the library must refuse. */
export const badShutdownOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'now', 5, [], () => ({})),
  badInt(0, 2_147_483_647).map((graceMs) => ({ graceMs })),
  fc.constantFrom({ force: true }, { timeoutMs: 10 }),
)

/** Options of `prune` the library must refuse. */
export const badPruneOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'old', 5, [], () => ({})),
  badInt(0, 31_557_600_000_000).map((olderThanMs) => ({ olderThanMs })),
  badInt(1, 100_000).map((batchSize) => ({ batchSize })),
  fc.constantFrom({ states: ['succeeded'] }, { before: 5 }),
)

/** Options of `register` the library must refuse. */
export const badRegisterOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'replace', 5, [], () => ({})),
  fc
    .constantFrom('replace', 'transactional')
    .chain((key) => fc.constantFrom('yes', 1, 0, null, {}).map((v) => objectWith(key, v))),
  fc.constantFrom({ concurrency: 5 }, { retries: 3 }, { transactionl: true }),
)

/** Queue options (`createMemoryQueue`, `createPostgresQueue`) the library must refuse. */
export const badQueueOptions: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, 'memory', 5, [], () => ({})),
  fc
    .oneof(
      fc.tuple(fc.constant('clock'), fc.constantFrom(null, 5, 'system', {}, { now: () => 1 })),
      fc.tuple(fc.constant('random'), fc.constantFrom(null, 0.5, 'rand', {})),
      fc.tuple(fc.constant('logger'), fc.constantFrom(null, 5, 'console', {}, { info: () => {} })),
      fc.tuple(
        fc.constant('queues'),
        fc.oneof(
          fc.constantFrom(null, 'default', 5, ['default']),
          badName
            .filter((n): n is string => typeof n === 'string')
            .map((name) => objectWith(name, { concurrency: 1 })),
          badInt(1, 100_000).map((concurrency) => ({ default: { concurrency } })),
          fc.constantFrom(
            { default: null },
            { default: 5 },
            { default: { strategy: 'fifo' } },
            { default: { bogus: 1 } },
          ),
        ),
      ),
      fc.tuple(
        fc.constant('workers'),
        fc.oneof(
          fc.constantFrom(null, 'all', {}, [null], [5], [{}], [{ queues: [] }], [{ queues: 'default' }]),
          fc.array(badName, { minLength: 1, maxLength: 2 }).map((queues) => [{ queues }]),
          badInt(1, 100_000).map((concurrency) => [{ queues: ['default'], concurrency }]),
          fc.constantFrom(
            [{ queues: ['default'], strategy: 'lifo' }],
            [{ queues: ['default'], transactional: 'yes' }],
            [{ queues: ['default'], bogus: 1 }],
          ),
        ),
      ),
      fc.tuple(fc.constant('pollIntervalMs'), badInt(1, 2_147_483_647)),
      fc.tuple(
        fc.constant('prefetch'),
        badInt(0, 100_000).filter((v) => v !== 'auto'),
      ),
      fc.tuple(fc.constant('maxBufferWaitMs'), badInt(1, 2_147_483_647)),
      fc.tuple(fc.constant('shutdownGraceMs'), badInt(0, 2_147_483_647)),
      fc.tuple(fc.constant('strategy'), fc.constantFrom('fifo', 'lifo', 5, null, '')),
      fc.tuple(fc.constant('backoff'), fc.constantFrom(null, 'x', 5, { baseMs: -1 }, { nope: 1 })),
      fc.tuple(
        fc.constant('scheduler'),
        fc.oneof(
          fc.constantFrom(null, 'on', 5, { enabled: 'yes' }, { every: 5 }),
          badInt(1, 2_147_483_647).map((intervalMs) => ({ intervalMs })),
        ),
      ),
      fc.tuple(
        fc.constant('maintenance'),
        fc.oneof(
          fc.constantFrom(null, 'on', 5, { enabled: 1 }, { every: 5 }),
          badInt(1, 2_147_483_647).map((rescueAfterMs) => ({ rescueAfterMs })),
        ),
      ),
      fc.tuple(
        fc.constant('processId'),
        fc.oneof(
          fc.constantFrom('', 'a:b', 'a b', 5, null),
          fc.string({ minLength: 129, maxLength: 140, unit: fc.constantFrom('a', 'b') }),
        ),
      ),
      fc.tuple(fc.constant('tracing'), fc.constantFrom(null, 'on', 5, { runSpan: 'sibling' })),
      fc.tuple(
        fc
          .string({ minLength: 1, maxLength: 16 })
          .filter(
            (k) =>
              ![
                'clock',
                'random',
                'logger',
                'queues',
                'workers',
                'pollIntervalMs',
                'prefetch',
                'maxBufferWaitMs',
                'strategy',
                'backoff',
                'shutdownGraceMs',
                'scheduler',
                'maintenance',
                'processId',
                'tracing',
                'pool',
                'connectionString',
                'maxConnections',
                'schema',
                '__proto__',
                'constructor',
                'toString',
                'valueOf',
                'hasOwnProperty',
              ].includes(k),
          ),
        fc.anything(),
      ),
    )
    .map(([key, value]) => objectWith(key, value)),
)

/** Strings an attacker would put anywhere text ends up in HTML, SQL or a URL. */
export const attackString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    'javascript:alert(1)',
    '</textarea><script>alert(1)</script>',
    '</title><script>alert(1)</script>',
    '<iframe src="javascript:alert(1)">',
    '" autofocus onfocus="alert(1)',
    "' onmouseover='alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    '{{constructor.constructor("alert(1)")()}}',
    "'; DROP TABLE jobs; --",
    '" OR "1"="1',
    "' OR 1=1 --",
    "1; DELETE FROM jobs WHERE '1'='1",
    '%27%20OR%201%3D1',
    '\\"; DROP SCHEMA public CASCADE; --',
    '$1; SELECT pg_sleep(10)',
    '<!--',
    ']]>',
    '&lt;script&gt;',
  ),
  fc
    .tuple(
      fc.constantFrom(
        '<script>',
        '<img src=x onerror=',
        '"',
        "'",
        '`',
        '</',
        '>',
        '<!--',
        'javascript:',
        '<svg/onload=',
      ),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('alert(1)', '</script>', '">', "'>", '-->', ''),
    )
    .map(([a, b, c]) => `${a}${b}${c}`),
)
