//! greeter-bindgen: a Rust plugin written with wasm-bindgen, as browser
//! plugin systems expect them (`#[wasm_bindgen]` functions, `init` and
//! `cleanup`), loaded by wasmplug without JavaScript. The host reads each
//! function's signature from wasm-bindgen's descriptors, passes numbers,
//! booleans and strings, runs `init` when it initializes the plugin and
//! `cleanup` when it disposes of it.
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use wasm_bindgen::prelude::*;

static READY: AtomicBool = AtomicBool::new(false);
static FAIL_CLEANUP: AtomicBool = AtomicBool::new(false);
static GREETED: AtomicU32 = AtomicU32::new(0);

/// Run by the host before any other call.
#[wasm_bindgen]
pub fn init() {
    // Without JavaScript a panic would only trap as "unreachable": throw
    // its message instead, so the host reports it.
    std::panic::set_hook(Box::new(|info| wasm_bindgen::throw_str(&info.to_string())));
    READY.store(true, Relaxed);
}

/// Run by the host when the plugin is disposed of.
#[wasm_bindgen]
pub fn cleanup() {
    if FAIL_CLEANUP.load(Relaxed) {
        wasm_bindgen::throw_str("cleanup failed as asked");
    }
    READY.store(false, Relaxed);
}

/// Whether init ran.
#[wasm_bindgen]
pub fn ready() -> bool {
    READY.load(Relaxed)
}

#[wasm_bindgen]
pub fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

#[wasm_bindgen]
pub fn scale(x: f64, by: f64) -> f64 {
    x * by
}

#[wasm_bindgen]
pub fn is_even(n: i64) -> bool {
    n % 2 == 0
}

#[wasm_bindgen]
pub fn greet(name: &str) -> String {
    GREETED.fetch_add(1, Relaxed);
    if name.is_empty() {
        "Hello!".to_string()
    } else {
        format!("Hello, {}!", name)
    }
}

/// Takes its argument as an owned String.
#[wasm_bindgen]
pub fn shout(text: String) -> String {
    text.to_uppercase()
}

/// Characters (not bytes) in text.
#[wasm_bindgen]
pub fn length(text: &str) -> u32 {
    text.chars().count() as u32
}

/// How many greetings this instance made.
#[wasm_bindgen]
pub fn greeted() -> u32 {
    GREETED.load(Relaxed)
}

/// Panics when b is 0 (the host reports the panic's message).
#[wasm_bindgen]
pub fn divide(a: i32, b: i32) -> i32 {
    if b == 0 {
        panic!("division of {} by zero", a);
    }
    a / b
}

/// Throws reason as an error.
#[wasm_bindgen]
pub fn reject(reason: &str) {
    wasm_bindgen::throw_str(reason);
}

/// Make the next cleanup fail (to see that the host runs it).
#[wasm_bindgen]
pub fn fail_cleanup(yes: bool) {
    FAIL_CLEANUP.store(yes, Relaxed);
}
