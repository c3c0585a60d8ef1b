//! Host services (ABI 1.1, docs/ABI.md): key-value storage (`kv`), the
//! plugin's own SQL database (`db`) and notifications (`notify`). Each needs
//! its grant, requested in plugin.yaml under `permissions` (`storage`,
//! `database`, `notify: true`); importing one without it fails the load.
//! Misuse (an empty key, a quota exceeded, forbidden SQL) fails the whole
//! call, and a failed call's writes are rolled back, so these functions only
//! return what can happen in a correct plugin.

mod sys {
    #[link(wasm_import_module = "wasmplug")]
    extern "C" {
        pub fn result_read(ptr: *mut u8, len: i32, offset: i32) -> i32;
        pub fn kv_get(key: *const u8, key_len: i32, out: *mut u8, cap: i32) -> i32;
        pub fn kv_set(key: *const u8, key_len: i32, val: *const u8, val_len: i32) -> i32;
        pub fn kv_delete(key: *const u8, key_len: i32) -> i32;
        pub fn kv_list(
            prefix: *const u8,
            prefix_len: i32,
            after: *const u8,
            after_len: i32,
            limit: i32,
            out: *mut u8,
            cap: i32,
        ) -> i32;
        pub fn kv_cas(
            key: *const u8,
            key_len: i32,
            expected: *const u8,
            expected_len: i32,
            val: *const u8,
            val_len: i32,
            flags: i32,
        ) -> i32;
        pub fn db_exec(sql: *const u8, sql_len: i32, params: *const u8, params_len: i32) -> i32;
        pub fn db_query(
            sql: *const u8,
            sql_len: i32,
            params: *const u8,
            params_len: i32,
            out: *mut u8,
            cap: i32,
        ) -> i32;
        pub fn notify(level: i32, title: *const u8, title_len: i32, body: *const u8, body_len: i32)
            -> i32;
    }
}

/// The whole result of the last service call (n bytes, the first part in small).
fn result(n: i32, small: &[u8]) -> Vec<u8> {
    let n = n.max(0) as usize;
    if n <= small.len() {
        return small[..n].to_vec();
    }
    let mut all = vec![0u8; n];
    unsafe {
        sys::result_read(all.as_mut_ptr(), n as i32, 0);
    }
    all
}

/// Key-value storage (grant `kv`).
pub mod kv {
    use super::{result, sys};

    /// The value of key, or None if it is absent.
    pub fn get(key: &[u8]) -> Option<Vec<u8>> {
        let mut small = [0u8; 256];
        let n = unsafe {
            sys::kv_get(key.as_ptr(), key.len() as i32, small.as_mut_ptr(), small.len() as i32)
        };
        if n < 0 {
            None
        } else {
            Some(result(n, &small))
        }
    }
    /// The value of key as text (lossy UTF-8), or None.
    pub fn get_string(key: &str) -> Option<String> {
        get(key.as_bytes()).map(|v| String::from_utf8_lossy(&v).into_owned())
    }
    /// Set key to value.
    pub fn set(key: &[u8], value: &[u8]) {
        unsafe {
            sys::kv_set(key.as_ptr(), key.len() as i32, value.as_ptr(), value.len() as i32);
        }
    }
    /// Delete key: true if it existed.
    pub fn delete(key: &[u8]) -> bool {
        unsafe { sys::kv_delete(key.as_ptr(), key.len() as i32) == 1 }
    }
    /// Compare-and-set: if key holds `expected` (None: is absent), store
    /// `value` (None: delete it). True when it did.
    pub fn cas(key: &[u8], expected: Option<&[u8]>, value: Option<&[u8]>) -> bool {
        let flags = (expected.is_none() as i32) | ((value.is_none() as i32) << 1);
        let e = expected.unwrap_or(&[]);
        let v = value.unwrap_or(&[]);
        unsafe {
            sys::kv_cas(
                key.as_ptr(),
                key.len() as i32,
                e.as_ptr(),
                e.len() as i32,
                v.as_ptr(),
                v.len() as i32,
                flags,
            ) == 1
        }
    }
    /// The keys starting with prefix, in byte order, after `after` (the last
    /// key of the previous page; None for the first), at most `limit`
    /// (1..10000). Fewer than `limit` keys means this was the last page.
    pub fn list(prefix: &[u8], after: Option<&[u8]>, limit: u32) -> Vec<Vec<u8>> {
        let mut small = [0u8; 1024];
        let a = after.unwrap_or(&[]);
        let n = unsafe {
            sys::kv_list(
                prefix.as_ptr(),
                prefix.len() as i32,
                a.as_ptr(),
                a.len() as i32,
                limit as i32,
                small.as_mut_ptr(),
                small.len() as i32,
            )
        };
        let all = result(n, &small);
        let mut keys = Vec::new();
        let mut at = 0usize;
        while at + 4 <= all.len() {
            let len = u32::from_le_bytes([all[at], all[at + 1], all[at + 2], all[at + 3]]) as usize;
            keys.push(all[at + 4..at + 4 + len].to_vec());
            at += 4 + len;
        }
        keys
    }
}

/// The plugin's own SQL database (grant `db`). Parameters are a JSON array
/// (`?1`, `?2`) or object (`:name`), always bound, never spliced.
pub mod db {
    use super::{result, sys};

    /// Run SQL (one or more statements): the rows changed, or the SQL error.
    pub fn exec(sql: &str, params: Option<&str>) -> Result<i32, String> {
        let p = params.unwrap_or("");
        let n = unsafe {
            sys::db_exec(sql.as_ptr(), sql.len() as i32, p.as_ptr(), p.len() as i32)
        };
        if n < 0 {
            Err(error())
        } else {
            Ok(n)
        }
    }
    /// Run one query: its rows as a JSON array of objects, or the SQL error.
    pub fn query(sql: &str, params: Option<&str>) -> Result<String, String> {
        let p = params.unwrap_or("");
        let mut small = [0u8; 512];
        let n = unsafe {
            sys::db_query(
                sql.as_ptr(),
                sql.len() as i32,
                p.as_ptr(),
                p.len() as i32,
                small.as_mut_ptr(),
                small.len() as i32,
            )
        };
        if n < 0 {
            Err(error())
        } else {
            Ok(String::from_utf8_lossy(&result(n, &small)).into_owned())
        }
    }
    fn error() -> String {
        let mut buf = [0u8; 512];
        let n = unsafe { sys::result_read(buf.as_mut_ptr(), buf.len() as i32, 0) };
        String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned()
    }
}

/// Notification levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info = 0,
    Success = 1,
    Warning = 2,
    Error = 3,
}

/// Show a notification (grant `notify`; title up to 256 bytes, body up to 64 KiB).
pub fn notify(level: Level, title: &str, body: &str) {
    unsafe {
        sys::notify(
            level as i32,
            title.as_ptr(),
            title.len() as i32,
            body.as_ptr(),
            body.len() as i32,
        );
    }
}
