// @fastify/rate-limit without a global limit: the auth plugin makes the two limits the gateway has
// (failed keys per address, requests per key) with app.createRateLimit(), so /healthz, /metrics
// and the console are never counted against a key.
import rateLimit from '@fastify/rate-limit'

export const rateLimitOptions = { global: false } as const

export default rateLimit
