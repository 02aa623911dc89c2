// Loaded with `node --import` (through NODE_OPTIONS) by the CLI tests: makes @electric-sql/pglite
// unresolvable, as in an application that has not installed the optional package.
import { register } from 'node:module'

const hook = `
export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@electric-sql/pglite' || specifier.startsWith('@electric-sql/pglite/')) {
    const error = new Error("Cannot find package '@electric-sql/pglite' (hidden by the test)")
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return nextResolve(specifier, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
