// The ceiling for the HTTP figures: a bare Fastify server in its own process, logger off, with a
// route answering constant JSON at the legacy method's path (the cached GET figure sends it the very
// request it sends the gateway: path, query and key header), and one answering a JSON body the parent
// sets at the live GET's path (the bytes of the gateway's answer, for the live GET figure).
import Fastify from 'fastify'
import { serveIpc } from './ipc-server.js'

export interface BareInfo { url: string, pid: number }

const app = Fastify({ logger: false })
const constant = { num: '101', registered: true, status: 'Free', fwdName: 'Available', qGlobalStatus: 'LoggedIn', qStatus: [{ num: '800', status: 'LoggedIn' }] }
let sized = '{}'
app.get('/ext.state.get', async () => constant)
app.get('/pbx.ac.get', async (_req, reply) => await reply.type('application/json; charset=utf-8').send(sized))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0

serveIpc({
  setBody: ({ body }: { body: string }) => { sized = body },
  close: async () => {
    await app.close()
    setTimeout(() => process.exit(0), 20)
  }
}, { url: `http://127.0.0.1:${port}`, pid: process.pid } satisfies BareInfo)
