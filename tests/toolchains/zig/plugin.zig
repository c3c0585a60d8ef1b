// plugin.zig - a Zig 0.11 plugin (zig build-lib -target wasm32-freestanding
// -dynamic -rdynamic -O ReleaseSmall). Exercises integer widths and sign
// extension, u64 bit operations, f32/f64 math, a fixed buffer in linear
// memory, wrapping/saturating arithmetic and a host import.
// Expected values come from the C reference code in test_toolchains.c.

extern "host" fn add(a: i32, b: i32) i32;

export fn add3(a: i32, b: i32, c: i32) i32 {
    return a +% b +% c;
}

// Truncate to narrower signed types and sign-extend back (i32.extend8_s,
// i32.extend16_s, i64.extend32_s in the output).
export fn narrow(x: i64) i64 {
    const b: i8 = @truncate(x);
    const h: i16 = @truncate(x >> 8);
    const w: i32 = @truncate(x >> 16);
    return @as(i64, b) * 1000000 + @as(i64, h) * 1000 + @as(i64, w);
}

export fn factorial(n: u32) u64 {
    var r: u64 = 1;
    var i: u64 = 2;
    while (i <= n) : (i += 1) r *%= i;
    return r;
}

export fn popcount_sum(x: u64, y: u64) u32 {
    return @as(u32, @popCount(x)) + @as(u32, @popCount(y)) * 100 + @as(u32, @clz(x | 1)) * 10000;
}

export fn sat_add_u8(a: u32, b: u32) u32 {
    const x: u8 = @truncate(a);
    const y: u8 = @truncate(b);
    return x +| y;
}

export fn dist_f32(x: f32, y: f32) f32 {
    return @sqrt(x * x + y * y);
}

export fn lerp(a: f64, b: f64, t: f64) f64 {
    return a + (b - a) * t;
}

var buffer: [1024]u32 = undefined;

// Fill a global array with squares mod 2^32 and sum them with a u64 accumulator.
export fn squares_sum(n: u32) u64 {
    const len = @min(n, buffer.len);
    var i: u32 = 0;
    while (i < len) : (i += 1) buffer[i] = i *% i *% 2654435761;
    var s: u64 = 0;
    for (buffer[0..len]) |v| s += v;
    return s;
}

// Calls the host import n times.
export fn host_sum(n: i32) i32 {
    var t: i32 = 0;
    var i: i32 = 0;
    while (i < n) : (i += 1) t +%= add(i, i);
    return t;
}
