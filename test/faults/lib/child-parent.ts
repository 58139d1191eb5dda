// A fault test's process in miniature, for gateway-child.test.ts: starts a gateway child
// (gateway-process.ts, configured by this process's environment), prints `child <pid>` once it
// listens, and stays until it is killed.
import { launchGateway } from './gateway-process.js'

const gw = await launchGateway({ env: {}, spare: false, onLine: () => {}, onErrorLine: () => {} }).started()
process.stdout.write(`child ${gw.child.pid ?? ''}\n`)
setInterval(() => {}, 60_000)
