// Loaded with `node --import` into every process of a test that needs an hour of token lifetime
// to pass in a minute. From WI_CLOCK_ORIGIN_MS (epoch ms, real time) on, Date runs
// WI_CLOCK_SPEED times faster; before it, Date is the real clock. Only Date changes: timers,
// performance.now() and the TLS stack keep real time, and no library code is touched, so what
// is tested is the same code deciding the same things by the same wall clock, just sooner.
// Every process of the test gets the same origin and speed, so they agree on what time it is.
const speed = Number(process.env.WI_CLOCK_SPEED);
const origin = Number(process.env.WI_CLOCK_ORIGIN_MS);
if (!(speed >= 1) || !Number.isFinite(origin)) {
  throw new Error('accelerated-clock: set WI_CLOCK_SPEED (>= 1) and WI_CLOCK_ORIGIN_MS (epoch ms)');
}

const RealDate = Date;
const realNow = RealDate.now;

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
