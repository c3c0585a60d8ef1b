// sort.ts - the sort workload (bench/workloads/sort.c) in AssemblyScript:
// the same generator, quicksort, heap sort and checksum, so its checksum must
// equal the C build's. It measures what the AssemblyScript toolchain's code
// (StaticArray with unchecked() accesses, u64 arithmetic) costs in the
// engine; the native reference is the C version.

const QN: i32 = 65536;
const HN: i32 = 16384;

const qa = new StaticArray<u32>(QN);
const ha = new StaticArray<u32>(HN);

let state: u64 = 1;

// xorshift64*, as wl_rand64 in workload.h
@inline function rand32(): u32 {
  let x = state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  state = x;
  return <u32>((x * 0x2545F4914F6CDD1D) >> 32);
}

@inline function seedOf(x: u64): u64 {
  return (x + 1) * 0x9E3779B97F4A7C15;
}

@inline function mix(h: u64, v: u64): u64 {
  return h ^ (v + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2));
}

function insertionSort(v: StaticArray<u32>, lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const x = unchecked(v[i]);
    let j = i - 1;
    while (j >= lo && unchecked(v[j]) > x) {
      unchecked((v[j + 1] = v[j]));
      j--;
    }
    unchecked((v[j + 1] = x));
  }
}

function quicksort(v: StaticArray<u32>, lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const mid = lo + ((hi - lo) >> 1);
    const a = unchecked(v[lo]), b = unchecked(v[mid]), c = unchecked(v[hi]);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo - 1, j = hi + 1;
    while (true) {
      do i++; while (unchecked(v[i]) < pivot);
      do j--; while (unchecked(v[j]) > pivot);
      if (i >= j) break;
      const t = unchecked(v[i]);
      unchecked((v[i] = v[j]));
      unchecked((v[j] = t));
    }
    if (j - lo < hi - j) {
      quicksort(v, lo, j);
      lo = j + 1;
    } else {
      quicksort(v, j + 1, hi);
      hi = j;
    }
  }
  insertionSort(v, lo, hi);
}

function siftDown(v: StaticArray<u32>, root: i32, n: i32): void {
  const x = unchecked(v[root]);
  while (true) {
    let child = 2 * root + 1;
    if (child >= n) break;
    if (child + 1 < n && unchecked(v[child + 1]) > unchecked(v[child])) child++;
    if (unchecked(v[child]) <= x) break;
    unchecked((v[root] = v[child]));
    root = child;
  }
  unchecked((v[root] = x));
}

function heapsort(v: StaticArray<u32>, n: i32): void {
  for (let i = n / 2 - 1; i >= 0; i--) siftDown(v, i, n);
  for (let end = n - 1; end > 0; end--) {
    const t = unchecked(v[0]);
    unchecked((v[0] = v[end]));
    unchecked((v[end] = t));
    siftDown(v, 0, end);
  }
}

function check(v: StaticArray<u32>, n: i32): u64 {
  let sum: u64 = 0;
  for (let i = 0; i < n; i++) {
    sum += <u64>unchecked(v[i]) * <u64>(i + 1);
    if (i > 0 && unchecked(v[i - 1]) > unchecked(v[i])) sum ^= 0xdeadbeef;
  }
  return sum;
}

export function run(n: i32): i64 {
  let sum: u64 = 0;
  for (let u = 0; u < n; u++) {
    state = seedOf(<u64>u);
    for (let i = 0; i < QN; i++) unchecked((qa[i] = rand32()));
    for (let i = 0; i < HN; i++) unchecked((ha[i] = rand32() % 100000));
    quicksort(qa, 0, QN - 1);
    heapsort(ha, HN);
    sum = mix(sum, check(qa, QN));
    sum = mix(sum, check(ha, HN));
  }
  return <i64>sum;
}
