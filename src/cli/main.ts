/** The `conveyor` executable: runs the command line with this process's arguments and environment. */
import { readEnvironment } from './config.js'
import { processOutput } from './output.js'
import { runCli } from './run.js'

const code = await runCli(process.argv.slice(2), { output: processOutput(), env: readEnvironment() })
process.exitCode = code
// Everything the command opened is closed by now; this only guards against a stray handle.
setTimeout(() => process.exit(code), 2000).unref()
