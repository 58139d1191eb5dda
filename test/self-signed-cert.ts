// Tests use the simulator's own self-signed certificate generator (src/sim/tls-cert.ts).
export { selfSignedCertificate } from '../src/sim/tls-cert.js'
