// The gateway's own API docs: an OpenAPI document generated from the route schemas (with their
// examples and error codes) and Swagger UI at /docs (JSON at /docs/json). Register before routes.
// No key is ever part of the document: it only says where a key goes.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { VERSION } from '../../version.js'

const DESCRIPTION = [
  'The legacy 3CX WebAPI for 3CX V20: the GET methods CRM scripts already call, plus reports.',
  '',
  'Every method is reachable in three equivalent ways: `GET /webapi/{key}/{method}` (the vendor form),',
  '`GET /{method}?key={key}`, and `GET /{method}` with the header `X-API-Key: {key}` (keeps the key out of URLs).',
  'A read key may call every `*.get` method; `makecall` and the `*.set` methods need a control key.',
  '',
  'Errors are JSON: `{"result":false,"error":{"code":"EXT_NOT_FOUND","message":"…"}}`. Codes: BAD_PARAMETER (400),',
  'UNAUTHORIZED (401), FORBIDDEN_SCOPE (403), UNKNOWN_METHOD / EXT_NOT_FOUND / QUEUE_NOT_FOUND / GROUP_NOT_FOUND (404),',
  'RATE_LIMITED (429, with Retry-After), NOT_SUPPORTED_BY_PBX (501), PBX_* (502 the PBX answered with an error,',
  '503 unreachable, 504 timed out). A 500 is never an answer to what a caller sent.'
].join('\n')

export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: '3cx-gateway', version: VERSION, description: DESCRIPTION },
      tags: [
        { name: 'gateway', description: 'The gateway itself' },
        { name: 'calls', description: 'Calls in progress, from the live call model (no PBX round trip)' },
        { name: 'directory', description: 'Directory lists (cached)' },
        { name: 'extensions', description: 'One extension' },
        { name: 'queues', description: 'Queues and ring groups' },
        { name: 'control', description: 'Control methods (control key)' }
      ],
      components: {
        securitySchemes: {
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          apiKeyQuery: { type: 'apiKey', in: 'query', name: 'key' }
        }
      }
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, persistAuthorization: false }
  })
}, { name: 'swagger', fastify: '5.x' })
