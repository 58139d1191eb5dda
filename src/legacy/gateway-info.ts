// The gateway information answer of `GET /webapi/{key}/` and `GET /info` (legacy-api.md §1).

export interface GatewayInfo {
  product: '3cx-gateway'
  version: string
  mode: 'demo' | 'pbx'
  pbx: { url: string, version: string, reachable: boolean }
  uptimeS: number
  simulator?: string
}

/** Resolves to the PBX version, or null when the PBX fails or does not answer within `timeoutMs`. */
export async function probePbxVersion (load: () => Promise<string>, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs) })
  try {
    return await Promise.race([load().catch(() => null), timeout])
  } finally {
    clearTimeout(timer)
  }
}
