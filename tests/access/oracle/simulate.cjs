// Differential-test oracle: reads a JSON array of iam-simulate `Simulation`s on stdin and prints a
// JSON array with one verdict per simulation, with the context keys it ignored because they do
// not apply to the action (e.g. aws:ResourceTag on S3 objects). Resolved from NODE_PATH, which the test points at
// an `npm ci` of this folder's lock file outside the clone (iam-simulate is AGPL: test-only).
'use strict'
const { runSimulation, anonymousPrincipal } = require('@cloud-copilot/iam-simulate')

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const verdicts = []
  for (const simulation of simulations) {
    if (simulation.request.principal === 'anonymous') {
      simulation.request.principal = anonymousPrincipal
    }
    const result = await runSimulation(simulation, {})
    if (result.resultType === 'error') {
      verdicts.push({ error: result.errors.message ?? JSON.stringify(result.errors) })
    } else {
      const results = result.resultType === 'single' ? [result.result] : result.results
      const ignored = [...new Set(results.flatMap((one) => one.ignoredContextKeys ?? []))]
      verdicts.push({ result: result.overallResult, ignoredContextKeys: ignored })
    }
  }
  process.stdout.write(JSON.stringify(verdicts))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
