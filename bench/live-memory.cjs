// Preloaded by bench/upload.mjs into a frontend it measures (node --expose-gc --require): from
// the SIGUSR2 the benchmark sends once the frontend is ready (before its first upload), every
// 20 ms a full GC, then the memory still live (V8 heap in use + Buffers and other external
// memory) appended to BENCH_LIVE_MEMORY_FILE in bytes. After a forced GC, what is left is what
// the process holds, not the garbage of bytes that already passed through. Not from the
// process's start: a full GC every 20 ms slowed the start-up, and no sample of it is read.
'use strict';
const { appendFileSync } = require('node:fs');

const file = process.env.BENCH_LIVE_MEMORY_FILE;
if (file && typeof globalThis.gc === 'function') {
  process.once('SIGUSR2', () => {
    setInterval(() => {
      globalThis.gc();
      const { heapUsed, external } = process.memoryUsage();
      appendFileSync(file, `${Date.now()} ${heapUsed + external}\n`);
    }, 20).unref();
  });
}
