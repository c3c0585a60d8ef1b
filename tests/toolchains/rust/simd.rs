// simd.rs - a Rust plugin built with -C target-feature=+simd128 (Debian
// rustc, wasm32-unknown-unknown, cdylib): explicit SIMD through
// core::arch::wasm32 and loops LLVM vectorizes by itself. Expected values
// come from the C reference code in tests/toolchains/reference.h.

use core::arch::wasm32::*;

const N: usize = 4096;
static mut BYTES: [u8; N] = [0; N];

fn fill(n: usize) {
    for i in 0..n {
        unsafe { BYTES[i] = ((i as u32).wrapping_mul(2654435761) >> 24) as u8 };
    }
}

/// Sum of squares of n bytes: u16 extension, i32x4.dot_i16x8_s, lane sum.
#[no_mangle]
pub extern "C" fn sum_squares(n: u32) -> i32 {
    let n = (n as usize).min(N);
    fill(n);
    let mut acc = i32x4_splat(0);
    let mut i = 0;
    while i + 16 <= n {
        let b = unsafe { v128_load(BYTES.as_ptr().add(i) as *const v128) };
        let lo = u16x8_extend_low_u8x16(b);
        let hi = u16x8_extend_high_u8x16(b);
        acc = i32x4_add(acc, i32x4_dot_i16x8(lo, lo));
        acc = i32x4_add(acc, i32x4_dot_i16x8(hi, hi));
        i += 16;
    }
    let mut sum = i32x4_extract_lane::<0>(acc)
        + i32x4_extract_lane::<1>(acc)
        + i32x4_extract_lane::<2>(acc)
        + i32x4_extract_lane::<3>(acc);
    while i < n {
        let b = unsafe { BYTES[i] } as i32;
        sum += b * b;
        i += 1;
    }
    sum
}

/// f32x4 arithmetic on exactly representable values: sum of lanes of
/// (a + b) * c - min(a, c) with a = splat(x), b = (1, 2, 3, 4), c = splat(y).
#[no_mangle]
pub extern "C" fn f32_lanes(x: f32, y: f32) -> f32 {
    let a = f32x4_splat(x);
    let b = f32x4(1.0, 2.0, 3.0, 4.0);
    let c = f32x4_splat(y);
    let r = f32x4_sub(f32x4_mul(f32x4_add(a, b), c), f32x4_min(a, c));
    f32x4_extract_lane::<0>(r) + f32x4_extract_lane::<1>(r) + f32x4_extract_lane::<2>(r)
        + f32x4_extract_lane::<3>(r)
}

/// Bytes equal to `needle` among the first n (i8x16.eq, bitmask, popcount).
#[no_mangle]
pub extern "C" fn count_byte(n: u32, needle: u32) -> u32 {
    let n = (n as usize).min(N) & !15;
    fill(n);
    let k = u8x16_splat(needle as u8);
    let mut count = 0u32;
    let mut i = 0;
    while i < n {
        let b = unsafe { v128_load(BYTES.as_ptr().add(i) as *const v128) };
        count += u8x16_bitmask(u8x16_eq(b, k)).count_ones();
        i += 16;
    }
    count
}
