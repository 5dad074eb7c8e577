/**
 * Collapses concurrent calls of an idempotent async refresh. A caller arriving while a run is in
 * flight waits for one follow-up run that starts after it (shared by everyone who arrived meanwhile),
 * so every caller still sees a run that began after its own call (read-your-writes), yet at most two
 * runs are ever pending however many requests arrive at once.
 */
export function coalesce(run: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  function start(): Promise<void> {
    const p = run().finally(() => {
      if (current === p) current = undefined;
    });
    current = p;
    return p;
  }

  return () => {
    if (!current) return start();
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
