// plugin.ts - an AssemblyScript plugin (npx asc --runtime stub -O3).
// Exercises strings (UTF-16, concatenation, number formatting), arrays
// (Array<f64>, Int32Array, sort, map/reduce), f64/i64 math and abort():
// AssemblyScript imports env.abort(msg, file, line, col), which the test
// driver provides. Expected values are computed independently by the C
// reference code in tests/toolchains/test_toolchains.c.

// fib(n) in i64 arithmetic (wraps like the C reference).
export function fib(n: i32): i64 {
  let a: i64 = 0, b: i64 = 1;
  for (let i = 0; i < n; i++) {
    const t = a + b;
    a = b;
    b = t;
  }
  return a;
}

// Build "item-0,item-1,...,item-(n-1)" and return FNV-1a (32-bit) over
// its UTF-16 code units.
export function joinHash(n: i32): u32 {
  const parts = new Array<string>();
  for (let i = 0; i < n; i++) parts.push("item-" + i.toString());
  const s = parts.join(",");
  let h: u32 = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= <u32>s.charCodeAt(i);
    h *= 16777619;
  }
  return h;
}

// Length of the joined string above (checks string building separately).
export function joinLength(n: i32): i32 {
  let s = "";
  for (let i = 0; i < n; i++) {
    if (i > 0) s += ",";
    s += "item-" + i.toString();
  }
  return s.length;
}

// Count vowels in a string with non-ASCII characters (UTF-16 units).
export function vowels(): i32 {
  const s = "Größe, naïve café — AssemblyScript in a WebAssembly plugin";
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i).toLowerCase();
    if (c == "a" || c == "e" || c == "i" || c == "o" || c == "u") n++;
  }
  return n * 1000 + s.length;
}

// sum over i < n of sqrt(i) * 0.5, via Array<f64> map and reduce.
export function sqrtSum(n: i32): f64 {
  const xs = new Array<f64>();
  for (let i = 0; i < n; i++) xs.push(<f64>i);
  const ys = xs.map<f64>((x: f64): f64 => Math.sqrt(x) * 0.5);
  return ys.reduce<f64>((acc: f64, y: f64): f64 => acc + y, 0.0);
}

// Euclidean distance, floor and trunc: exact IEEE operations.
export function geometry(x: f64, y: f64): f64 {
  return Math.floor(Math.sqrt(x * x + y * y) * 1000.0) / 1000.0 + Math.trunc(x / 3.0);
}

// Fill an Int32Array with xorshift values, sort it, return a
// position-weighted checksum (as the C reactor's sort_checksum).
export function sortChecksum(seed: u32, n: i32): i64 {
  const v = new Int32Array(n);
  let s: u32 = seed == 0 ? 1 : seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    v[i] = <i32>(s % 2000001) - 1000000;
  }
  v.sort();
  let sum: i64 = 0;
  for (let i = 0; i < n; i++) sum += <i64>v[i] * <i64>(i + 1);
  return sum;
}

// (a * b) mod m for u64 without overflow (double-and-add).
export function mulmod(a: u64, b: u64, m: u64): u64 {
  let r: u64 = 0;
  a %= m;
  while (b > 0) {
    if (b & 1) {
      r = r >= m - a ? r - (m - a) : r + a;
    }
    a = a >= m - a ? a - (m - a) : a + a;
    b >>= 1;
  }
  return r;
}

// Throws (calls env.abort) when b == 0.
export function checkedDiv(a: i32, b: i32): i32 {
  if (b == 0) throw new Error("division by zero");
  return a / b;
}

// Number formatting of f64 through toString().
export function f64StrLen(x: f64): i32 {
  return x.toString().length;
}
