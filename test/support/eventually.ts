/**
 * Polls `probe` until it gives a value: anything but undefined, null or false. A probe that throws
 * has not given one yet; its last error is in the timeout's message. For the tests that wait on
 * real processes over the network (collectors, Jaeger, sinks, Prometheus); agent-harness's
 * waitFor is the synchronous check of in-process state (a throw there fails at once).
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
