/**
 * The few distribution functions the run comparison needs, written out (no dependency): log-gamma,
 * the regularized incomplete gamma and beta functions, the standard normal CDF and quantile, the
 * Student t CDF, and Gamma / Beta samplers driven by a caller's uniform source so that every draw
 * is reproducible from a seed.
 *
 * Accuracy, checked against scipy in tests/unit/statistics-distributions.test.ts: about 1e-14
 * relative for log-gamma, the normal CDF and quantile, tails included; about 1e-11 relative for the
 * incomplete beta and the t CDF with shapes up to 10^4, 1e-9 at 10^6 degrees of freedom (the
 * difference of log-gammas of large, close arguments loses digits there).
 */

// Bound once because Jest runs modules in a vm context where every lookup of the global `Math`
// goes through an interceptor: measured 10x slower sampling, which the bootstrap tests would feel.
const { abs, cos, exp, log, log1p, pow, round, sin, sqrt } = Math;
const TWO_PI = 2 * Math.PI;

/** A source of uniform floats in [0, 1), such as `createRandom(seed)` from src/shared/seeded-random. */
export type UniformSource = () => number;

// Lanczos approximation, g = 7, 9 terms (Numerical Recipes 3rd ed. uses the same family): about
// 1e-15 relative on Gamma for x >= 0.5.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * log(2 * Math.PI);
const SQRT_TWO_PI = sqrt(2 * Math.PI);

/**
 * Natural log of the Gamma function, for x > 0 (NaN otherwise; +Infinity at 0).
 *
 * Lanczos below 10, the Stirling series above, which is as accurate there (truncation error below
 * 2e-15 relative) and cheaper; Fisher's test calls it with counts up to 10^7.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return Number.POSITIVE_INFINITY;
  if (x === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (x < 0.5) {
    // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x); the Lanczos sum is only good for x >= 0.5.
    return log(Math.PI / sin(Math.PI * x)) - logGamma(1 - x);
  }
  if (x >= 10) {
    const inverse = 1 / x;
    const inverseSquared = inverse * inverse;
    // Stirling series to the x^-9 term: the first omitted term, 691 / (360360 x^11), is 2e-14 at x = 10.
    const series =
      inverse * (1 / 12 - inverseSquared * (1 / 360 - inverseSquared * (1 / 1260 - inverseSquared * (1 / 1680 - inverseSquared / 1188))));
    return (x - 0.5) * log(x) - x + HALF_LOG_TWO_PI + series;
  }
  const shifted = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0]!;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i]! / (shifted + i);
  const t = shifted + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (shifted + 0.5) * log(t) - t + log(sum);
}

// Continued fractions and series stop when a step changes the value by less than this (relative).
const EPSILON = 1e-16;
// Lentz's method replaces an exact zero denominator with this, as Numerical Recipes does.
const TINY = 1e-300;
// The incomplete beta fraction needs O(sqrt(max(a, b))) steps; 10^5 covers shapes up to ~10^9.
const MAX_ITERATIONS = 100_000;

/**
 * Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), for a > 0, x >= 0. Internal:
 * the normal CDF uses it as P(Z > t) = Q(1/2, t^2 / 2), which keeps full relative precision in the tail.
 */
function upperIncompleteGamma(a: number, x: number, expMinusX = exp(-x)): number {
  if (x <= 0) return 1;
  // exp(-x) comes from the caller when it can compute it more exactly than exp of a rounded x.
  const front = expMinusX > 0 ? expMinusX * exp(a * log(x) - logGamma(a)) : exp(-x + a * log(x) - logGamma(a));
  if (x < a + 1) {
    // Series for P(a, x), then Q = 1 - P: the series converges fast below a + 1.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (abs(term) < abs(sum) * EPSILON) break;
    }
    return 1 - sum * front;
  }
  // Continued fraction for Q (modified Lentz), converging fast above a + 1.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (abs(step - 1) < EPSILON) break;
  }
  return front * h;
}

/**
 * P(Z > t) for t >= 0: Q(1/2, t^2 / 2), with full relative precision in the tail. exp(-t^2 / 2)
 * is computed with t^2 split as tHigh^2 (exact, tHigh has few bits) + (t - tHigh)(t + tHigh): the
 * rounding of t^2 / 2 alone would cost 2e-13 relative at t = 37.
 */
function normalUpperTail(t: number): number {
  const tHigh = round(t * 4096) / 4096;
  const expMinusHalfSquare = exp((-tHigh * tHigh) / 2) * exp((-(t - tHigh) * (t + tHigh)) / 2);
  return 0.5 * upperIncompleteGamma(0.5, (t * t) / 2, expMinusHalfSquare);
}

/**
 * Standard normal CDF, P(Z <= z). The lower tail keeps its relative precision down to 1e-300:
 * `normalCdf(-z)` is the right way to get the upper tail P(Z > z) for a p-value.
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === Number.NEGATIVE_INFINITY) return 0;
  if (z === Number.POSITIVE_INFINITY) return 1;
  return z < 0 ? normalUpperTail(-z) : 1 - normalUpperTail(z);
}

// Acklam's rational approximation (relative error 1.15e-9), refined below by one Halley step.
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239,
];
const ACKLAM_B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const ACKLAM_LOW = 0.02425;

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const coefficient of coefficients) value = value * x + coefficient;
  return value;
}

/**
 * Standard normal quantile (inverse CDF): z with P(Z <= z) = p. -Infinity at 0, +Infinity at 1,
 * NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  // The refinement below compares normalCdf(x) with p; near 1 both round to 1, so use the symmetry.
  if (p > 0.5) return -normalQuantile(1 - p);
  let x: number;
  if (p < ACKLAM_LOW) {
    const q = sqrt(-2 * log(p));
    x = polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = (polynomial(ACKLAM_A, r) * q) / (polynomial(ACKLAM_B, r) * r + 1);
  }
  // One Halley step on normalCdf(x) - p takes Acklam's 1e-9 to double precision.
  const error = normalCdf(x) - p;
  const u = error * SQRT_TWO_PI * exp((x * x) / 2);
  const refined = x - u / (1 + (x * u) / 2);
  return Number.isFinite(refined) ? refined : x;
}

/** Continued fraction of the incomplete beta (Numerical Recipes `betacf`, modified Lentz). */
function incompleteBetaFraction(a: number, b: number, x: number): number {
  const sum = a + b;
  const aPlusOne = a + 1;
  const aMinusOne = a - 1;
  let c = 1;
  let d = 1 - (sum * x) / aPlusOne;
  if (abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const twoM = 2 * m;
    let coefficient = (m * (b - m) * x) / ((aMinusOne + twoM) * (a + twoM));
    d = 1 + coefficient * d;
    if (abs(d) < TINY) d = TINY;
    c = 1 + coefficient / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    coefficient = (-(a + m) * (sum + m) * x) / ((a + twoM) * (aPlusOne + twoM));
    d = 1 + coefficient * d;
    if (abs(d) < TINY) d = TINY;
    c = 1 + coefficient / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (abs(step - 1) < EPSILON) break;
  }
  return h;
}

/**
 * Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and
 * 0 <= x <= 1 (NaN otherwise); argument order as scipy's `betainc(a, b, x)`.
 *
 * The continued fraction is evaluated on whichever of I_x(a, b) and 1 - I_{1-x}(b, a) converges
 * fast, so the small side keeps its relative precision.
 */
export function regularizedIncompleteBeta(a: number, b: number, x: number): number {
  if (!(a > 0) || !(b > 0) || Number.isNaN(x) || x < 0 || x > 1) return Number.NaN;
  if (x === 0) return 0;
  if (x === 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * log(x) + b * log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (exp(logFront) * incompleteBetaFraction(a, b, x)) / a;
  return 1 - (exp(logFront) * incompleteBetaFraction(b, a, 1 - x)) / b;
}

/**
 * Student t CDF, P(T <= t) with `degreesOfFreedom` > 0 (not necessarily an integer: Welch's test
 * gives fractional ones; Infinity gives the normal). The lower tail is computed directly from the
 * incomplete beta, so a two-sided p-value is `2 * studentTCdf(-Math.abs(t), df)` at full precision.
 */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t) || !(degreesOfFreedom > 0)) return Number.NaN;
  if (degreesOfFreedom === Number.POSITIVE_INFINITY) return normalCdf(t);
  if (t === Number.NEGATIVE_INFINITY) return 0;
  if (t === Number.POSITIVE_INFINITY) return 1;
  // P(|T| > |t|) = I_x(df / 2, 1 / 2) with x = df / (df + t^2).
  const x = degreesOfFreedom / (degreesOfFreedom + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(degreesOfFreedom / 2, 0.5, x);
  return t < 0 ? tail : 1 - tail;
}

/**
 * A standard normal deviate from two uniforms (Box-Muller, cosine branch only, so the sampler holds
 * no state between calls and a draw depends only on the source's position).
 */
export function sampleStandardNormal(uniform: UniformSource): number {
  // 1 - u lies in (0, 1], so the log is finite even when the source returns exactly 0.
  const radius = sqrt(-2 * log(1 - uniform()));
  return radius * cos(TWO_PI * uniform());
}

/**
 * A Gamma(shape, 1) deviate, shape > 0, by Marsaglia and Tsang (2000): a bounded expected number
 * of uniforms whatever the shape, which is what lets the percentile bootstrap draw
 * Beta(k, n + 1 - k) order statistics with n = 10^7 as cheaply as with n = 10.
 */
export function sampleGamma(shape: number, uniform: UniformSource): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`sampleGamma: shape must be a finite number > 0 (got ${shape})`);
  if (shape < 1) {
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang, section 6).
    return sampleGamma(shape + 1, uniform) * pow(1 - uniform(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
  for (;;) {
    const x = sampleStandardNormal(uniform);
    const base = 1 + c * x;
    if (base <= 0) continue;
    const v = base * base * base;
    const u = 1 - uniform();
    const xSquared = x * x;
    // The squeeze accepts most draws without a logarithm.
    if (u < 1 - 0.0331 * xSquared * xSquared) return d * v;
    if (log(u) < 0.5 * xSquared + d * (1 - v + log(v))) return d * v;
  }
}

/** A Beta(a, b) deviate, a, b > 0, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, uniform: UniformSource): number {
  const x = sampleGamma(a, uniform);
  const y = sampleGamma(b, uniform);
  return x / (x + y);
}
