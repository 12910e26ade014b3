/** Waits `ms` milliseconds. Retry loops take it as a parameter so tests can skip the waiting. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
