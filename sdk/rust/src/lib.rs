//! wasmplug-pdk: the Rust plugin development kit for wasmplug.
//!
//! A safe API over the plugin ABI v1 (docs/ABI.md): [`input`], [`output`],
//! [`config`], [`log`], [`Error`], a small order-preserving JSON type
//! ([`json::Value`]) and the [`plugin_fn!`] macro that turns a Rust function
//! into an exported ABI v1 function `() -> i32`:
//!
//! ```ignore
//! use wasmplug_pdk::{plugin_fn, Error};
//! plugin_fn! {
//!     fn greet(name: String) -> Result<String, Error> {
//!         Ok(format!("Hello, {}!", name))
//!     }
//! }
//! ```
//!
//! Build for `wasm32-unknown-unknown` (or `wasm32-wasi`) as a `cdylib`.
//! With the `serde` feature, [`Json<T>`] reads and writes any serde type
//! through serde_json. Panics become the call's error message (then trap).
//! [`http`] sends outbound HTTP requests when the host grants them.
//! [`command`] is the command ABI: a [`command::Plugin`] trait and
//! [`plugin_main!`].

pub mod command;
pub mod http;
pub mod json;
pub mod services;

use std::fmt;

mod sys {
    #[link(wasm_import_module = "wasmplug")]
    extern "C" {
        pub fn input_len() -> i32;
        pub fn input_read(ptr: *mut u8, len: i32, offset: i32) -> i32;
        pub fn output_write(ptr: *const u8, len: i32) -> i32;
        pub fn error_set(ptr: *const u8, len: i32);
        pub fn log(level: i32, ptr: *const u8, len: i32);
        pub fn config_get(key: *const u8, key_len: i32, out: *mut u8, out_cap: i32) -> i32;
        pub fn abi_version() -> i32;
        pub fn result_read(ptr: *mut u8, len: i32, offset: i32) -> i32;
        // Imported only by plugins that use `http` (needs the http permission).
        pub fn http_request(req: *const u8, req_len: i32, out: *mut u8, out_cap: i32) -> i32;
        pub fn event_publish(topic: *const u8, topic_len: i32, payload: *const u8,
                             payload_len: i32) -> i32;
        pub fn event_request(topic: *const u8, topic_len: i32, payload: *const u8,
                             payload_len: i32, timeout_ms: i32) -> i32;
    }
}

/// The largest input [`input::bytes`] accepts (16 MiB).
pub const MAX_INPUT: usize = 16 << 20;

/// The error of a plugin function: a code (non-zero) and a message, which
/// the host reports as `WASMPLUG_ERR_PLUGIN` with `plugin_code` = code.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

impl Error {
    /// An error with code 1.
    pub fn new(message: impl Into<String>) -> Error {
        Error { code: 1, message: message.into() }
    }
    /// An error with a specific non-zero code.
    pub fn with_code(code: i32, message: impl Into<String>) -> Error {
        Error { code: if code == 0 { 1 } else { code }, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error::new(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Error {
        Error::new(s)
    }
}

impl From<json::ParseError> for Error {
    fn from(e: json::ParseError) -> Error {
        Error::new(format!("invalid JSON: {}", e))
    }
}

#[cfg(feature = "serde")]
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::new(format!("JSON error: {}", e))
    }
}

/// The host's ABI major version (1).
pub fn abi_version() -> i32 {
    unsafe { sys::abi_version() }
}

/// Set the message of the call's failure (the last one wins).
pub fn set_error(message: &str) {
    unsafe { sys::error_set(message.as_ptr(), message.len() as i32) }
}

/// The call's input.
pub mod input {
    use super::{json, sys, Error, MAX_INPUT};

    /// Length in bytes.
    pub fn len() -> usize {
        unsafe { sys::input_len() as usize }
    }

    /// Whether the input is empty.
    pub fn is_empty() -> bool {
        len() == 0
    }

    /// The whole input ("input too large" past [`MAX_INPUT`]).
    pub fn bytes() -> Result<Vec<u8>, Error> {
        let n = len();
        if n > MAX_INPUT {
            return Err(Error::new("input too large"));
        }
        let mut buf = vec![0u8; n];
        let mut off = 0usize;
        while off < n {
            let r = unsafe {
                sys::input_read(buf.as_mut_ptr().add(off), (n - off) as i32, off as i32)
            };
            if r <= 0 {
                break;
            }
            off += r as usize;
        }
        buf.truncate(off);
        Ok(buf)
    }

    /// The input as UTF-8 text ("input is not valid UTF-8" otherwise).
    pub fn string() -> Result<String, Error> {
        String::from_utf8(bytes()?).map_err(|_| Error::new("input is not valid UTF-8"))
    }

    /// The input parsed as JSON ("invalid JSON input: <reason> at byte N").
    pub fn json() -> Result<json::Value, Error> {
        let s = string()?;
        json::Value::parse(&s).map_err(|e| Error::new(format!("invalid JSON input: {}", e)))
    }

    /// The input deserialized with serde_json.
    #[cfg(feature = "serde")]
    pub fn json_as<T: serde::de::DeserializeOwned>() -> Result<T, Error> {
        serde_json::from_slice(&bytes()?)
            .map_err(|e| Error::new(format!("invalid JSON input: {}", e)))
    }
}

/// The call's output: every function appends.
pub mod output {
    use super::{json, sys};

    /// Append bytes.
    pub fn write(data: &[u8]) {
        unsafe {
            sys::output_write(data.as_ptr(), data.len() as i32);
        }
    }
    /// Append text.
    pub fn set_string(s: &str) {
        write(s.as_bytes())
    }
    /// Append a JSON value (compact).
    pub fn set_json(v: &json::Value) {
        set_string(&v.to_json())
    }
    /// Workflow nodes (docs/ABI.md "Workflow nodes"): a node type's prep,
    /// exec and post phases are ordinary exports named in the manifest's
    /// `nodes:`. A post phase ends with node_post: the next action and the
    /// state updates (a JSON object merged into the workflow's state).
    pub fn node_post(action: &str, updates: Option<&json::Value>) {
        let mut s = String::from("{\"action\":");
        s.push_str(&json::Value::String(action.to_string()).to_json());
        if let Some(u) = updates {
            s.push_str(",\"updates\":");
            s.push_str(&u.to_json());
        }
        s.push('}');
        set_string(&s);
    }
}

/// Plugin config values (strings) from the manifest and the host.
pub mod config {
    use super::{sys, Error};
    use std::str::FromStr;

    /// The value for key, or None if it is not set.
    pub fn get(key: &str) -> Option<String> {
        let mut small = [0u8; 256];
        let n = unsafe {
            sys::config_get(key.as_ptr(), key.len() as i32, small.as_mut_ptr(), small.len() as i32)
        };
        if n < 0 {
            return None;
        }
        let n = n as usize;
        let bytes = if n <= small.len() {
            small[..n].to_vec()
        } else {
            let mut big = vec![0u8; n];
            unsafe {
                sys::config_get(key.as_ptr(), key.len() as i32, big.as_mut_ptr(), n as i32);
            }
            big
        };
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The value for key, or `default`.
    pub fn get_or(key: &str, default: &str) -> String {
        get(key).unwrap_or_else(|| default.to_string())
    }

    /// The value for key, or the error "missing config: KEY".
    pub fn require(key: &str) -> Result<String, Error> {
        get(key).ok_or_else(|| Error::new(format!("missing config: {}", key)))
    }

    /// The value parsed as T, `default` when unset, an error when unparsable.
    pub fn parse_or<T: FromStr>(key: &str, default: T) -> Result<T, Error> {
        match get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| Error::new(format!("config {}: cannot parse '{}'", key, v))),
        }
    }
}

/// Log lines to the host.
pub mod log {
    use super::sys;
    fn at(level: i32, msg: &str) {
        unsafe { sys::log(level, msg.as_ptr(), msg.len() as i32) }
    }
    pub fn trace(msg: &str) {
        at(0, msg)
    }
    pub fn debug(msg: &str) {
        at(1, msg)
    }
    pub fn info(msg: &str) {
        at(2, msg)
    }
    pub fn warn(msg: &str) {
        at(3, msg)
    }
    pub fn error(msg: &str) {
        at(4, msg)
    }
}

/// The event bus (ABI 1.1; the host attaches its bus: docs/ABI.md "Events").
///
/// ```ignore
/// use wasmplug_pdk::{event_handler, events, Error};
/// event_handler! {
///     fn on_content(ev: events::Event) -> Result<(), Error> {
///         events::publish("index.updated", &ev.payload)?;
///         Ok(())
///     }
/// }
/// ```
pub mod events {
    use super::{input, json, output, sys, Error};

    /// One event as a handler sees it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Event {
        pub topic: String,
        pub id: f64,
        /// Publish time, ms since the Unix epoch.
        pub time: f64,
        /// "host" or the publishing plugin.
        pub source: String,
        pub hops: i32,
        /// A request's inbox (see [`reply`]).
        pub reply_to: Option<String>,
        pub payload: json::Value,
    }

    impl Event {
        fn from_json(v: &json::Value) -> Result<Event, Error> {
            let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(|s| s.to_string());
            let num = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(0.0);
            Ok(Event {
                topic: text("topic").ok_or_else(|| Error::new("the input is not an event (no topic)"))?,
                id: num("id"),
                time: num("time"),
                source: text("source").unwrap_or_default(),
                hops: num("hops") as i32,
                reply_to: text("reply_to"),
                payload: v.get("payload").cloned().unwrap_or(json::Value::Null),
            })
        }
    }

    /// The events of a handler's input: one, or every event of a batch.
    pub fn from_input() -> Result<Vec<Event>, Error> {
        let v = input::json()?;
        match v.as_array() {
            Some(items) => items.iter().map(Event::from_json).collect(),
            None => Ok(vec![Event::from_json(&v)?]),
        }
    }

    /// The result of the last service import: a reply, or why it failed.
    fn result() -> String {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            let n = unsafe { sys::result_read(chunk.as_mut_ptr(), 256, out.len() as i32) };
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n as usize]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn status_error(rc: i32) -> Error {
        Error::with_code(-rc, result())
    }

    /// Publish `payload` on `topic`: sent when the current call returns
    /// success, dropped if it fails. An `Err` (code = the host's status)
    /// says why it was refused: bad topic, topic not granted, too large,
    /// hop limit. Needs a granted "events.publish:<pattern>".
    pub fn publish(topic: &str, payload: &json::Value) -> Result<(), Error> {
        publish_raw(topic, payload.to_json().as_bytes())
    }

    /// Publish JSON text as it is.
    pub fn publish_raw(topic: &str, payload_json: &[u8]) -> Result<(), Error> {
        let rc = unsafe {
            sys::event_publish(topic.as_ptr(), topic.len() as i32, payload_json.as_ptr(),
                               payload_json.len() as i32)
        };
        if rc < 0 { Err(status_error(rc)) } else { Ok(()) }
    }

    /// Request/reply: publish and wait up to `timeout_ms` for the first
    /// reply (sent at once, not at the end of the call).
    pub fn request(topic: &str, payload: &json::Value, timeout_ms: i32) -> Result<String, Error> {
        let body = payload.to_json();
        let rc = unsafe {
            sys::event_request(topic.as_ptr(), topic.len() as i32, body.as_ptr(),
                               body.len() as i32, timeout_ms)
        };
        if rc < 0 { Err(status_error(rc)) } else { Ok(result()) }
    }

    /// Answer a request event (single, unbatched delivery): the reply is
    /// the handler's output.
    pub fn reply(ev: &Event, payload: &json::Value) {
        if ev.reply_to.is_some() {
            output::set_json(payload);
        }
    }

    /// Runs an event handler once per event. Used by [`event_handler!`].
    #[doc(hidden)]
    pub fn __each(f: fn(Event) -> Result<(), Error>) -> Result<(), Error> {
        for ev in from_input()? {
            f(ev)?;
        }
        Ok(())
    }

    /// Runs a batch handler on every event of the delivery. Used by
    /// [`event_batch_handler!`].
    #[doc(hidden)]
    pub fn __batch(f: fn(Vec<Event>) -> Result<(), Error>) -> Result<(), Error> {
        f(from_input()?)
    }
}

/// Define the event handler (export `on_event`), called once per event, in
/// order, also for each event of a batch. An `Err` fails the delivery (the
/// bus retries it as configured).
#[macro_export]
macro_rules! event_handler {
    ($(#[$meta:meta])* $vis:vis fn $name:ident ($arg:ident : $ty:ty) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[no_mangle]
        pub extern "C" fn on_event() -> i32 {
            fn $name($arg: $ty) -> $ret $body
            $crate::__run(|_: ()| $crate::events::__each($name))
        }
    };
}

/// Define a batch handler (export `on_event`) that gets all events of one
/// delivery at once (`handleEventBatch` style; one event when unbatched).
#[macro_export]
macro_rules! event_batch_handler {
    ($(#[$meta:meta])* $vis:vis fn $name:ident ($arg:ident : $ty:ty) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[no_mangle]
        pub extern "C" fn on_event() -> i32 {
            fn $name($arg: $ty) -> $ret $body
            $crate::__run(|_: ()| $crate::events::__batch($name))
        }
    };
}

/// What a [`plugin_fn!`] function can take as its argument.
pub trait FromInput: Sized {
    fn from_input() -> Result<Self, Error>;
}

/// What a [`plugin_fn!`] function can return (inside `Ok`).
pub trait IntoOutput {
    fn into_output(self) -> Result<(), Error>;
}

impl FromInput for () {
    fn from_input() -> Result<(), Error> {
        Ok(())
    }
}
impl FromInput for Vec<u8> {
    fn from_input() -> Result<Self, Error> {
        input::bytes()
    }
}
impl FromInput for String {
    fn from_input() -> Result<Self, Error> {
        input::string()
    }
}
impl FromInput for json::Value {
    fn from_input() -> Result<Self, Error> {
        input::json()
    }
}

impl IntoOutput for () {
    fn into_output(self) -> Result<(), Error> {
        Ok(())
    }
}
impl IntoOutput for Vec<u8> {
    fn into_output(self) -> Result<(), Error> {
        output::write(&self);
        Ok(())
    }
}
impl IntoOutput for String {
    fn into_output(self) -> Result<(), Error> {
        output::set_string(&self);
        Ok(())
    }
}
impl<'a> IntoOutput for &'a str {
    fn into_output(self) -> Result<(), Error> {
        output::set_string(self);
        Ok(())
    }
}
impl IntoOutput for json::Value {
    fn into_output(self) -> Result<(), Error> {
        output::set_json(&self);
        Ok(())
    }
}

/// serde types in and out as JSON (feature `serde`).
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

#[cfg(feature = "serde")]
impl<T: serde::de::DeserializeOwned> FromInput for Json<T> {
    fn from_input() -> Result<Self, Error> {
        input::json_as().map(Json)
    }
}

#[cfg(feature = "serde")]
impl<T: serde::Serialize> IntoOutput for Json<T> {
    fn into_output(self) -> Result<(), Error> {
        let bytes = serde_json::to_vec(&self.0)?;
        output::write(&bytes);
        Ok(())
    }
}

#[cfg(feature = "serde")]
pub use serde_json;

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = format!("panic: {}", info);
            set_error(&msg);
            log::error(&msg);
        }));
    });
}

/// Runs a plugin function: input conversion, the function, output, errors.
/// Used by [`plugin_fn!`].
#[doc(hidden)]
pub fn __run<I: FromInput, O: IntoOutput>(f: fn(I) -> Result<O, Error>) -> i32 {
    install_panic_hook();
    match I::from_input().and_then(f).and_then(IntoOutput::into_output) {
        Ok(()) => 0,
        Err(e) => {
            set_error(&e.message);
            if e.code == 0 {
                1
            } else {
                e.code
            }
        }
    }
}

/// Define an exported ABI v1 plugin function.
///
/// ```ignore
/// plugin_fn! {
///     fn count(text: String) -> Result<String, Error> { Ok(text.len().to_string()) }
/// }
/// plugin_fn! {
///     fn version() -> Result<&'static str, Error> { Ok("1.0") }
/// }
/// ```
///
/// The argument type implements [`FromInput`] (`Vec<u8>`, `String`,
/// `json::Value`, `Json<T>`), the `Ok` type [`IntoOutput`] (the same, plus
/// `&str` and `()`). An `Err` becomes the call's error (code and message).
#[macro_export]
macro_rules! plugin_fn {
    ($(#[$meta:meta])* $vis:vis fn $name:ident ($arg:ident : $ty:ty) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[no_mangle]
        pub extern "C" fn $name() -> i32 {
            fn inner($arg: $ty) -> $ret $body
            $crate::__run(inner)
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident () -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[no_mangle]
        pub extern "C" fn $name() -> i32 {
            fn inner(_: ()) -> $ret $body
            $crate::__run(inner)
        }
    };
}
