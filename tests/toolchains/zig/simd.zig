// simd.zig - a Zig 0.11 plugin built with -mcpu generic+simd128: @Vector
// arithmetic lowered to wasm SIMD, a reduction and a saturating add.
// Expected values come from the C reference code in tests/toolchains/reference.h.

const V4 = @Vector(4, i32);
const V8u16 = @Vector(8, u16);

var words: [1024]i32 = undefined;

// Sum over i < n of w[i] * 3 - 7 with w[i] = (i * 40503) & 0xffff - 30000,
// four lanes at a time, then @reduce.
export fn lanes_sum(n: u32) i32 {
    const m: usize = @min(n, 1024) & ~@as(usize, 3);
    var i: usize = 0;
    while (i < m) : (i += 1) {
        const v: u32 = @truncate((i *% 40503) & 0xffff);
        words[i] = @as(i32, @intCast(v)) - 30000;
    }
    var acc: V4 = @splat(0);
    const three: V4 = @splat(3);
    const seven: V4 = @splat(7);
    i = 0;
    while (i < m) : (i += 4) {
        const w: V4 = words[i..][0..4].*;
        acc +%= w *% three -% seven;
    }
    return @reduce(.Add, acc);
}

// Saturating u16 lanes: each lane of splat(a) +| (1000 * lane) summed.
export fn sat_lanes(a: u32) u32 {
    const x: V8u16 = @splat(@truncate(a));
    const steps = V8u16{ 0, 1000, 2000, 3000, 4000, 5000, 6000, 7000 };
    const r = x +| steps;
    var s: u32 = 0;
    inline for (0..8) |k| s += r[k];
    return s;
}
