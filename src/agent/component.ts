/**
 * The lifecycle every agent component shares, the same shape as the sink's services and
 * destinations (after the Collector's component.go): create → start → shutdown, where shutdown is
 * idempotent and safe without start. Also the one place that turns an exception inside a timer or
 * watcher callback into a log line: nothing the agent schedules may throw into the event loop.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  /** Idempotent; safe without start(). */
  shutdown(): Promise<void> | void;
}

export type Log = (message: string) => void;

/** Wraps a scheduled callback (timer, fs.watch, setImmediate) so that it never throws. */
export function guarded(what: string, fn: () => void, log: Log): () => void {
  return () => {
    try {
      fn();
    } catch (err) {
      log(`${what} failed: ${(err as Error)?.message ?? String(err)}`);
    }
  };
}

/** An interval that is guarded, unref'd (it never keeps the process alive) and cleared by the returned function. */
export function every(ms: number, what: string, fn: () => void, log: Log): () => void {
  const timer = setInterval(guarded(what, fn, log), ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** Components started in order and shut down in reverse: only those that started, once each. */
export function createStartOrder(log: Log) {
  const started: Component[] = [];
  return {
    async start(...components: Component[]) {
      for (const c of components) {
        await c.start();
        started.push(c);
      }
    },
    async shutdown() {
      for (const c of started.splice(0).reverse()) {
        await Promise.resolve().then(() => c.shutdown()).catch((err: unknown) => log(`shutdown of ${c.name} failed: ${(err as Error)?.message ?? String(err)}`));
      }
    },
  };
}
