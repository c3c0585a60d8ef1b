// sort_main.ts - entry for wabt's wasm-interp, whose --run-all-exports passes
// no arguments: bench_main() runs the sort workload BENCH_N times, BENCH_N
// being given on the command line (asc --use BENCH_N=<n>).
import { run } from "./sort";

// @ts-ignore: defined by asc --use
export function bench_main(): i64 {
  return run(BENCH_N);
}
