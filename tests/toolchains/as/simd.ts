// simd.ts - an AssemblyScript plugin built with --enable simd: v128
// parameters and results, i32x4/f64x2 arithmetic, lane access and a
// SIMD loop over memory. Expected values come from the C reference code in
// tests/toolchains/reference.h.

// (a + b) * k per i32 lane.
export function madd4(a: v128, b: v128, k: i32): v128 {
  return i32x4.mul(i32x4.add(a, b), i32x4.splat(k));
}

// Lanes of a reversed (i8x16.shuffle).
export function reverse4(a: v128): v128 {
  return v128.shuffle<i32>(a, a, 3, 2, 1, 0);
}

// Sum of n f64 values 0.5 * i two lanes at a time (exact in f64).
export function sumHalves(n: i32): f64 {
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = 0.5 * <f64>i;
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    acc = f64x2.add(acc, v128.load(data.dataStart + (<usize>i << 3)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += data[i];
  return s;
}
