// Loaded with `node --import` (through NODE_OPTIONS) by the CLI tests: makes the optional packages
// named in CONVEYOR_TEST_HIDE (comma-separated; default @electric-sql/pglite) unresolvable, as in an
// application that has not installed them.
import { register } from 'node:module'

const hidden = (process.env.CONVEYOR_TEST_HIDE || '@electric-sql/pglite').split(',')
const hook = `
const hidden = ${JSON.stringify(hidden)}
export async function resolve(specifier, context, nextResolve) {
  const name = hidden.find((h) => specifier === h || specifier.startsWith(h + '/'))
  if (name) {
    const error = new Error("Cannot find package '" + name + "' (hidden by the test)")
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return nextResolve(specifier, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
