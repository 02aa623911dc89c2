/** JSON schema of the storage health route's answer (`GET /storage/health`). */
import { NULLABLE_TIME, TIME } from './schemas.js'

const NULLABLE_INT = { type: ['integer', 'null'] } as const
const NULLABLE_STRING = { type: ['string', 'null'] } as const

const horizonHolderSchema = {
  type: 'object',
  required: ['kind', 'pid', 'name', 'state', 'xmin', 'xminAge', 'heldMs', 'transactionStartedAt'],
  properties: {
    kind: { type: 'string', enum: ['session', 'replicationSlot', 'preparedTransaction'] },
    pid: { ...NULLABLE_INT, description: 'backend process id (null for a prepared transaction)' },
    name: {
      type: 'string',
      description: "a session's application_name, a slot's name or a prepared transaction's gid",
    },
    state: { ...NULLABLE_STRING, description: 'e.g. idle in transaction, active, inactive, prepared' },
    user: NULLABLE_STRING,
    database: NULLABLE_STRING,
    xmin: { type: 'string', description: 'the transaction id it holds the horizon at' },
    xminAge: { type: 'integer', description: 'transactions since that xmin' },
    heldMs: {
      type: 'number',
      description: 'how long it has held the horizon (a slot: since first seen at this xmin)',
    },
    transactionStartedAt: NULLABLE_TIME,
    queryStartedAt: NULLABLE_TIME,
    query: { ...NULLABLE_STRING, description: 'its current or last statement, cut to 200 characters' },
  },
} as const

/** The storage health of the queue's database (`Queue.storageHealth()`). */
export const storageHealthSchema = {
  type: 'object',
  required: [
    'checkedAt',
    'database',
    'schema',
    'tables',
    'holders',
    'oldestTransactionAgeMs',
    'thresholds',
    'warnings',
  ],
  properties: {
    checkedAt: TIME,
    database: { type: 'string' },
    schema: { type: 'string' },
    tables: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'name',
          'liveTuples',
          'deadTuples',
          'totalBytes',
          'indexBytes',
          'lastVacuumAt',
          'lastAutovacuumAt',
        ],
        properties: {
          name: { type: 'string' },
          liveTuples: { type: 'integer' },
          deadTuples: { type: 'integer', description: 'dead row versions not yet removed' },
          totalBytes: { type: 'integer', description: 'with indexes and TOAST' },
          indexBytes: { type: 'integer' },
          lastVacuumAt: NULLABLE_TIME,
          lastAutovacuumAt: NULLABLE_TIME,
        },
      },
    },
    holders: {
      type: 'array',
      items: horizonHolderSchema,
      description: 'what holds the xmin horizon, oldest first',
    },
    oldestTransactionAgeMs: { type: 'number', description: "the oldest holder's age; 0 when none" },
    thresholds: {
      type: 'object',
      required: ['horizonWarnAfterMs', 'deadTuplesWarnAt'],
      properties: { horizonWarnAfterMs: { type: 'integer' }, deadTuplesWarnAt: { type: 'integer' } },
    },
    warnings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['rule', 'message', 'table', 'holder'],
        properties: {
          rule: { type: 'string', enum: ['heldHorizon'] },
          message: { type: 'string', description: 'what is wrong and how to end it' },
          table: { type: 'string', description: 'the table with the most dead tuples' },
          holder: horizonHolderSchema,
        },
      },
    },
  },
} as const
