// plugin.rs - a Rust plugin (Debian rustc 1.63, wasm32-unknown-unknown,
// cdylib). Exercises i64/u128 math, Vec allocation and sorting (dlmalloc
// grows memory), f64 math, host imports from module "host" and a panic
// (which aborts with `unreachable`). Expected values come from the C
// reference code in tests/toolchains/test_toolchains.c.

#[link(wasm_import_module = "host")]
extern "C" {
    fn add(a: i32, b: i32) -> i32;
    fn log(ptr: *const u8, len: usize);
    fn scale(x: f64) -> f64;
}

/// Number of Collatz steps from n down to 1 (u64 arithmetic).
#[no_mangle]
pub extern "C" fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0u32;
    while n > 1 {
        n = if n % 2 == 0 { n / 2 } else { n.wrapping_mul(3).wrapping_add(1) };
        steps += 1;
    }
    steps
}

/// b^e mod m with u128 intermediates (compiler-builtins' __multi3 etc.).
#[no_mangle]
pub extern "C" fn modpow(mut b: u64, mut e: u64, m: u64) -> u64 {
    if m == 1 {
        return 0;
    }
    let mut r: u128 = 1;
    let mm = m as u128;
    let mut bb = (b % m) as u128;
    while e > 0 {
        if e & 1 == 1 {
            r = r * bb % mm;
        }
        bb = bb * bb % mm;
        e >>= 1;
    }
    b = r as u64;
    b
}

/// Signed i64 mix: wrapping multiply, arithmetic shift, rotate, i64::abs.
#[no_mangle]
pub extern "C" fn mix64(a: i64, b: i64) -> i64 {
    let x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15u64 as i64) ^ b;
    let y = (x >> 7).wrapping_add(x.rotate_left(17));
    y.wrapping_abs() ^ (b.leading_zeros() as i64)
}

/// Sieve of Eratosthenes in a Vec<bool>: primes below n.
#[no_mangle]
pub extern "C" fn sieve_count(n: u32) -> u32 {
    let n = n as usize;
    if n < 3 {
        return 0;
    }
    let mut is = vec![true; n];
    is[0] = false;
    is[1] = false;
    let mut i = 2;
    while i * i < n {
        if is[i] {
            let mut j = i * i;
            while j < n {
                is[j] = false;
                j += i;
            }
        }
        i += 1;
    }
    is.iter().filter(|&&p| p).count() as u32
}

/// Fill a Vec<i32> with xorshift values, sort it, position-weighted sum.
#[no_mangle]
pub extern "C" fn vec_sort_checksum(seed: u32, n: i32) -> i64 {
    let mut s = if seed == 0 { 1 } else { seed };
    let mut v: Vec<i32> = Vec::new();
    for _ in 0..n.max(0) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        v.push((s % 2_000_001) as i32 - 1_000_000);
    }
    v.sort_unstable();
    v.iter()
        .enumerate()
        .fold(0i64, |acc, (i, &x)| acc.wrapping_add(x as i64 * (i as i64 + 1)))
}

/// Mean and standard deviation of 1..=n, combined: mean * 1000 + stddev.
#[no_mangle]
pub extern "C" fn stats(n: u32) -> f64 {
    let xs: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    if xs.is_empty() {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
    mean * 1000.0 + var.sqrt()
}

/// Calls host.add(i, x) for i in 0..n and sums the results.
#[no_mangle]
pub extern "C" fn call_host(x: i32, n: i32) -> i32 {
    let mut total = 0i32;
    for i in 0..n {
        total = total.wrapping_add(unsafe { add(i, x) });
    }
    total
}

/// host.scale applied twice, plus one.
#[no_mangle]
pub extern "C" fn scale_twice(x: f64) -> f64 {
    unsafe { scale(scale(x)) + 1.0 }
}

/// Formats a message with format! and passes it to host.log; returns its length.
#[no_mangle]
pub extern "C" fn greet(n: i32) -> i32 {
    let msg = format!("hello from rust, n={} sq={}", n, (n as i64) * (n as i64));
    unsafe { log(msg.as_ptr(), msg.len()) };
    msg.len() as i32
}

/// Panics (-> unreachable trap) when the index is out of range.
#[no_mangle]
pub extern "C" fn checked_index(i: u32) -> u32 {
    let v = [10u32, 20, 30, 40];
    v[i as usize]
}
