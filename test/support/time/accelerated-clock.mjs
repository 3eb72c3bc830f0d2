// Loaded with `node --import` into every process of a test that needs an hour of token lifetime
// to pass in a minute. From WI_CLOCK_ORIGIN_MS (epoch ms, real time) on, Date runs
// WI_CLOCK_SPEED times faster; before it, Date is the real clock. Only Date changes: timers,
// performance.now() and the TLS stack keep real time, and no library code is touched, so what
// is tested is the same code deciding the same things by the same wall clock, just sooner.
// Every process of the test gets the same origin and speed, so they agree on what time it is.
//
// WI_CLOCK_ORIGIN_MS=signal instead: the clock is real until the process gets SIGUSR2, then
// takes its origin from the file WI_CLOCK_ORIGIN_FILE (epoch ms, written by the test before it
// signals every process). So a slow start-up on a loaded machine runs on the real clock and
// spends none of the accelerated hour, and all processes still share one origin.
const speed = Number(process.env.WI_CLOCK_SPEED);
const onSignal = process.env.WI_CLOCK_ORIGIN_MS === 'signal';
let origin = onSignal ? Infinity : Number(process.env.WI_CLOCK_ORIGIN_MS);
if (!(speed >= 1) || (!onSignal && !Number.isFinite(origin))) {
  throw new Error(
    'accelerated-clock: set WI_CLOCK_SPEED (>= 1) and WI_CLOCK_ORIGIN_MS (epoch ms, or signal)',
  );
}

const RealDate = Date;
const realNow = RealDate.now;

if (onSignal) {
  const { readFileSync } = await import('node:fs');
  const file = process.env.WI_CLOCK_ORIGIN_FILE;
  if (!file)
    throw new Error('accelerated-clock: WI_CLOCK_ORIGIN_MS=signal needs WI_CLOCK_ORIGIN_FILE');
  process.on('SIGUSR2', () => {
    const value = Number(readFileSync(file, 'utf8'));
    if (Number.isFinite(value) && origin === Infinity) origin = value;
  });
}

/** The accelerated wall clock, in epoch milliseconds. */
function acceleratedNow(real = realNow()) {
  return real <= origin ? real : Math.floor(origin + (real - origin) * speed);
}

globalThis.Date = new Proxy(RealDate, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, args.length === 0 ? [acceleratedNow()] : args, newTarget);
  },
  apply() {
    return new RealDate(acceleratedNow()).toString();
  },
  get(target, property, receiver) {
    return property === 'now' ? () => acceleratedNow() : Reflect.get(target, property, receiver);
  },
});
