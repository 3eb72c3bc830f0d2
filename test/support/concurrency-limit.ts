/**
 * Runs at most `n` of the tasks it is given at once, the others in the order they came: for work
 * that is CPU-bound on two cores (scripts, benchmarks), where more at once would only queue.
 */
export function concurrencyLimit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // A finished task hands its place to the next in line, or frees it.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
