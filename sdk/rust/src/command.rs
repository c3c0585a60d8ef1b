//! The command ABI (docs/ABI.md "Command plugins"): a plugin is a value
//! implementing [`Plugin`], and [`plugin_main!`] exports
//! `initialize(ptr, len) -> u32`, `handle_command(ptr, len) -> u32`,
//! `shutdown() -> u32` and the allocator (`alloc`, `dealloc`) the host
//! passes bytes through.
//!
//! ```ignore
//! use wasmplug_pdk::command::*;
//!
//! #[derive(Default)]
//! pub struct MyPlugin { host_api: HostApi }
//!
//! impl Plugin for MyPlugin {
//!     fn initialize(&mut self, host_api: HostApi) -> Result<(), PluginError> {
//!         self.host_api = host_api;
//!         Ok(())
//!     }
//!     fn handle_command(&mut self, command: Command) -> Result<CommandResponse, PluginError> {
//!         match command.action.as_str() {
//!             "echo" => Ok(CommandResponse::new(command.payload)),
//!             _ => Err(PluginError::UnknownCommand(command.action)),
//!         }
//!     }
//! }
//! plugin_main!(MyPlugin);
//! ```
//!
//! A command is the JSON object `{"action": "...", "payload": ...}`; the
//! response's JSON is the call's output; an error sets the call's message
//! and returns its code ([`PluginError::code`]).

use crate::json::Value;
use crate::{log, output, set_error};
use std::fmt;

/// Status codes `initialize`, `handle_command` and `shutdown` return.
pub const OK: u32 = 0;
/// [`PluginError::Failed`].
pub const FAILED: u32 = 1;
/// [`PluginError::UnknownCommand`].
pub const UNKNOWN_COMMAND: u32 = 2;
/// [`PluginError::InvalidCommand`]: not JSON, or no `action` string.
pub const INVALID_COMMAND: u32 = 3;

/// What the host offers a plugin at initialize: its config and logging.
#[derive(Debug, Clone)]
pub struct HostApi {
    config: Value,
}

impl Default for HostApi {
    fn default() -> HostApi {
        HostApi { config: Value::object() }
    }
}

impl HostApi {
    /// The plugin's config: a JSON object of strings (manifest and host).
    pub fn config(&self) -> &Value {
        &self.config
    }
    /// One config value.
    pub fn config_str(&self, key: &str) -> Option<&str> {
        self.config.get(key).and_then(Value::as_str)
    }
    /// Log through the host (level info).
    pub fn log(&self, message: &str) {
        log::info(message)
    }
}

/// A command sent to the plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub action: String,
    /// `null` when the command has none.
    pub payload: Value,
}

impl Command {
    /// Parse `{"action": "...", "payload": ...}`.
    pub fn parse(text: &str) -> Result<Command, PluginError> {
        let v = Value::parse(text)
            .map_err(|e| PluginError::InvalidCommand(format!("not JSON: {}", e)))?;
        let action = match v.get("action").and_then(Value::as_str) {
            Some(a) => a.to_string(),
            None => {
                return Err(PluginError::InvalidCommand(
                    "a command is an object with an \"action\" string".to_string(),
                ))
            }
        };
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        Ok(Command { action, payload })
    }
}

/// What a command answers: a JSON value, the call's output.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandResponse {
    pub data: Value,
}

impl CommandResponse {
    pub fn new(data: impl Into<Value>) -> CommandResponse {
        CommandResponse { data: data.into() }
    }
    /// A response of `null`.
    pub fn empty() -> CommandResponse {
        CommandResponse { data: Value::Null }
    }
}

/// Why a command (or initialize, shutdown) failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginError {
    /// No such action.
    UnknownCommand(String),
    /// The command is not a JSON object with an action.
    InvalidCommand(String),
    /// Anything else.
    Failed(String),
}

impl PluginError {
    /// The status code the host sees as `plugin_code`.
    pub fn code(&self) -> u32 {
        match self {
            PluginError::UnknownCommand(_) => UNKNOWN_COMMAND,
            PluginError::InvalidCommand(_) => INVALID_COMMAND,
            PluginError::Failed(_) => FAILED,
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::UnknownCommand(a) => write!(f, "unknown command '{}'", a),
            PluginError::InvalidCommand(why) => write!(f, "invalid command: {}", why),
            PluginError::Failed(why) => f.write_str(why),
        }
    }
}

impl From<String> for PluginError {
    fn from(s: String) -> PluginError {
        PluginError::Failed(s)
    }
}

impl From<&str> for PluginError {
    fn from(s: &str) -> PluginError {
        PluginError::Failed(s.to_string())
    }
}

/// A command plugin.
pub trait Plugin {
    /// Run once per instance before any command, with the host's API.
    fn initialize(&mut self, host_api: HostApi) -> Result<(), PluginError> {
        let _ = host_api;
        Ok(())
    }
    /// Answer one command, usually by matching `command.action`.
    fn handle_command(&mut self, command: Command) -> Result<CommandResponse, PluginError>;
    /// Run when the host disposes of the plugin.
    fn shutdown(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

fn status(r: Result<(), PluginError>) -> u32 {
    match r {
        Ok(()) => OK,
        Err(e) => {
            set_error(&e.to_string());
            e.code()
        }
    }
}

/// The bytes the host placed at (ptr, len) as text.
///
/// # Safety
/// (ptr, len) must come from the host: bytes it copied into a block from
/// [`__alloc`].
unsafe fn host_text(ptr: *const u8, len: usize) -> Result<String, PluginError> {
    let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(ptr, len) };
    String::from_utf8(bytes.to_vec())
        .map_err(|_| PluginError::InvalidCommand("not UTF-8".to_string()))
}

#[doc(hidden)]
pub unsafe fn __initialize<P: Plugin>(p: &mut P, ptr: *const u8, len: usize) -> u32 {
    crate::install_panic_hook();
    status(host_text(ptr, len).and_then(|text| {
        let config = if text.is_empty() {
            Value::object()
        } else {
            Value::parse(&text).map_err(|e| PluginError::Failed(format!("config: {}", e)))?
        };
        p.initialize(HostApi { config })
    }))
}

#[doc(hidden)]
pub unsafe fn __handle_command<P: Plugin>(p: &mut P, ptr: *const u8, len: usize) -> u32 {
    crate::install_panic_hook();
    status(
        host_text(ptr, len)
            .and_then(|text| Command::parse(&text))
            .and_then(|c| p.handle_command(c))
            .map(|r| output::set_json(&r.data)),
    )
}

#[doc(hidden)]
pub fn __shutdown<P: Plugin>(p: &mut P) -> u32 {
    status(p.shutdown())
}

#[doc(hidden)]
pub fn __alloc(len: usize) -> *mut u8 {
    let mut v: Vec<u8> = Vec::with_capacity(len.max(1));
    let ptr = v.as_mut_ptr();
    std::mem::forget(v);
    ptr
}

/// # Safety
/// (ptr, len) must come from [`__alloc`] with the same len.
#[doc(hidden)]
pub unsafe fn __dealloc(ptr: *mut u8, len: usize) {
    drop(Vec::from_raw_parts(ptr, 0, len.max(1)));
}

/// Export the command ABI for a plugin type (`Default` builds it):
/// `initialize`, `handle_command`, `shutdown`, `alloc` and `dealloc`.
#[macro_export]
macro_rules! plugin_main {
    ($ty:ty) => {
        static mut __WASMPLUG_PLUGIN: Option<$ty> = None;

        fn __wasmplug_plugin() -> &'static mut $ty {
            // wasm32 plugins run one call at a time per instance.
            unsafe { __WASMPLUG_PLUGIN.get_or_insert_with(<$ty as Default>::default) }
        }

        #[no_mangle]
        pub unsafe extern "C" fn initialize(ptr: *const u8, len: usize) -> u32 {
            $crate::command::__initialize(__wasmplug_plugin(), ptr, len)
        }

        #[no_mangle]
        pub unsafe extern "C" fn handle_command(ptr: *const u8, len: usize) -> u32 {
            $crate::command::__handle_command(__wasmplug_plugin(), ptr, len)
        }

        #[no_mangle]
        pub extern "C" fn shutdown() -> u32 {
            $crate::command::__shutdown(__wasmplug_plugin())
        }

        #[no_mangle]
        pub extern "C" fn alloc(len: usize) -> *mut u8 {
            $crate::command::__alloc(len)
        }

        #[no_mangle]
        pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
            $crate::command::__dealloc(ptr, len)
        }
    };
}
