//! file-watcher - a plugin in the standard WASM module interface of
//! editor-style plugin hosts: it describes itself with plugin_get_manifest,
//! is set up and torn down with plugin_initialize / plugin_dispose, and
//! handles events with plugin_handle_event, one event or a batch at a time
//! (a JSON array: the host's handleEventBatch), through alloc/dealloc and
//! packed results (address << 32 | length). Plain Rust, no SDK.
//!
//! It counts file events: a batch answers {"ok":true,"handled":N}; the
//! event {"type":"stats"} answers {"events":E,"batches":B,"largest":L,
//! "single":S,"initialized":true|false}.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

static INITIALIZED: AtomicBool = AtomicBool::new(false);
static EVENTS: AtomicU32 = AtomicU32::new(0);
static BATCHES: AtomicU32 = AtomicU32::new(0);
static LARGEST: AtomicU32 = AtomicU32::new(0);
static SINGLE: AtomicU32 = AtomicU32::new(0);

/// The manifest, in the host's plugin.yaml layout (as JSON).
const MANIFEST: &str = r#"{
  "id": "file-watcher",
  "name": "File watcher",
  "version": "1.0.0",
  "description": "Counts file events, delivered in batches",
  "abi": "compat",
  "exports": ["plugin_handle_event"],
  "permissions": {
    "host_functions": ["get_file_content"],
    "events": {"subscribe": [{"topic": "file.*", "handler": "plugin_handle_event",
                               "batch": {"max": 4, "window_ms": 100}}]},
    "resources": {"max_execution_time": "5s", "max_memory": "50MB", "max_call_depth": 100},
    "capabilities": {"network": false, "filesystem": "read-only"}
  }
}"#;

/// Bytes handed to the host: allocated here, freed by the host's dealloc.
fn give(bytes: &[u8]) -> u64 {
    let boxed: Box<[u8]> = bytes.to_vec().into_boxed_slice();
    let len = boxed.len() as u64;
    let ptr = Box::into_raw(boxed) as *mut u8 as usize as u64;
    (ptr << 32) | len
}

#[no_mangle]
pub extern "C" fn alloc(size: usize) -> *mut u8 {
    let mut v: Vec<u8> = Vec::with_capacity(size);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

#[no_mangle]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: usize) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(ptr, 0, size));
    }
}

#[no_mangle]
pub extern "C" fn plugin_get_manifest() -> u64 {
    give(MANIFEST.as_bytes())
}

#[no_mangle]
pub extern "C" fn plugin_initialize() -> i32 {
    INITIALIZED.store(true, Ordering::SeqCst);
    0
}

#[no_mangle]
pub extern "C" fn plugin_dispose() -> i32 {
    INITIALIZED.store(false, Ordering::SeqCst);
    0
}

/// The number of items of a top-level JSON array (strings and nesting
/// skipped), or None when text is not an array.
fn array_len(text: &[u8]) -> Option<u32> {
    let mut i = 0;
    while i < text.len() && text[i].is_ascii_whitespace() {
        i += 1;
    }
    if i >= text.len() || text[i] != b'[' {
        return None;
    }
    let (mut depth, mut in_str, mut escaped, mut items, mut any) = (0i32, false, false, 0u32, false);
    for &c in &text[i..] {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                any = true;
            }
            b'[' | b'{' => {
                if depth == 1 {
                    any = true;
                }
                depth += 1;
            }
            b']' | b'}' => depth -= 1,
            b',' if depth == 1 => items += 1,
            c if depth == 1 && !c.is_ascii_whitespace() => any = true,
            _ => {}
        }
    }
    Some(if any { items + 1 } else { 0 })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[no_mangle]
pub unsafe extern "C" fn plugin_handle_event(ptr: *const u8, len: usize) -> u64 {
    let input = std::slice::from_raw_parts(ptr, len);
    if let Some(n) = array_len(input) {
        // A batch (handleEventBatch): every event of the window at once.
        EVENTS.fetch_add(n, Ordering::SeqCst);
        BATCHES.fetch_add(1, Ordering::SeqCst);
        LARGEST.fetch_max(n, Ordering::SeqCst);
        return give(format!("{{\"ok\":true,\"handled\":{}}}", n).as_bytes());
    }
    if contains(input, b"\"type\":\"stats\"") {
        let answer = format!(
            "{{\"events\":{},\"batches\":{},\"largest\":{},\"single\":{},\"initialized\":{}}}",
            EVENTS.load(Ordering::SeqCst),
            BATCHES.load(Ordering::SeqCst),
            LARGEST.load(Ordering::SeqCst),
            SINGLE.load(Ordering::SeqCst),
            INITIALIZED.load(Ordering::SeqCst)
        );
        return give(answer.as_bytes());
    }
    EVENTS.fetch_add(1, Ordering::SeqCst);
    SINGLE.fetch_add(1, Ordering::SeqCst);
    give(b"{\"ok\":true,\"handled\":1}")
}
