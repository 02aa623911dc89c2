/**
 * The SQL texts of the hot-path statements of one schema, built once per store (they are run as
 * named prepared statements, so each text must stay the same for the life of a connection).
 */
import { afterCommitSql } from './after-commit.js'
import { type ClaimSql, claimSql } from './claim.js'
import { completeSql, completeSucceededSql } from './complete.js'
import { type InsertSql, insertSql } from './insert-sql.js'
import { failOrphansSql, findOrphansSql } from './orphans.js'
import { heartbeatSql, listProcessesSql, rescueSql } from './rescue.js'
import type { SqlNames } from './sql-names.js'

/** The statement texts a store runs on its hot paths and in its maintenance. */
export interface StoreStatements {
  readonly insert: InsertSql
  readonly claim: ClaimSql
  /** Completion of any mix of outcomes, and of successes only (without and with run logs). */
  readonly complete: { readonly any: string; readonly succeeded: string; readonly succeededWithLogs: string }
  /** What a completion above READ COMMITTED leaves for after its commit (after-commit.ts). */
  readonly afterCommit: string
  readonly heartbeat: string
  readonly listProcesses: string
  readonly rescue: string
  readonly findOrphans: string
  readonly failOrphans: string
}

/** Builds the statement texts of a schema. */
export function storeStatements(names: SqlNames): StoreStatements {
  return {
    insert: insertSql(names),
    claim: claimSql(names),
    complete: {
      any: completeSql(names),
      succeeded: completeSucceededSql(names),
      succeededWithLogs: completeSucceededSql(names, true),
    },
    afterCommit: afterCommitSql(names),
    heartbeat: heartbeatSql(names),
    listProcesses: listProcessesSql(names),
    rescue: rescueSql(names),
    findOrphans: findOrphansSql(names),
    failOrphans: failOrphansSql(names),
  }
}
