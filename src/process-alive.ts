// Whether a process with this pid exists: signal 0 checks without sending anything. EPERM means it
// exists but belongs to another user (a gateway running as its own service user): alive, not gone.
export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
