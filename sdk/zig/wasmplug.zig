//! wasmplug.zig - the Zig plugin development kit for wasmplug (Zig 0.11,
//! plugin ABI v1, docs/ABI.md). Same shape as the other PDKs: input as
//! bytes / string / JSON, output, config, logs and errors, plus `run`, which
//! gives each call an arena allocator and turns Zig errors into the call's
//! error:
//!
//!     const wp = @import("wasmplug");
//!     export fn greet() i32 { return wp.run(greetImpl); }
//!     fn greetImpl(call: *wp.Call) !void {
//!         const name = try call.inputString();
//!         try call.print("Hello, {s}!", .{name});
//!     }
//!
//! Build: zig build-lib -target wasm32-freestanding -dynamic -rdynamic
//!        -O ReleaseSmall --mod wasmplug::PATH/wasmplug.zig --deps wasmplug plugin.zig
const std = @import("std");

// ---- the ABI v1 imports (module "wasmplug") ----
pub const raw = struct {
    pub extern "wasmplug" fn input_len() i32;
    pub extern "wasmplug" fn input_read(ptr: [*]u8, len: i32, offset: i32) i32;
    pub extern "wasmplug" fn output_write(ptr: [*]const u8, len: i32) i32;
    pub extern "wasmplug" fn error_set(ptr: [*]const u8, len: i32) void;
    pub extern "wasmplug" fn log(level: i32, ptr: [*]const u8, len: i32) void;
    pub extern "wasmplug" fn config_get(key: [*]const u8, key_len: i32, out: [*]u8, out_cap: i32) i32;
    pub extern "wasmplug" fn abi_version() i32;
};

/// Log levels of wasmplug.log.
pub const Level = enum(i32) { trace = 0, debug = 1, info = 2, warn = 3, err = 4 };

/// The largest input inputBytes accepts (16 MiB).
pub const max_input: usize = 16 << 20;

/// Errors a plugin function may return; `error.PluginError` means "the
/// message is already set" (see Call.fail).
pub const Error = error{ PluginError, InputTooLarge, InvalidJson, MissingConfig, InvalidConfig };

/// Set the message of the call's failure (the last one wins).
pub fn setError(msg: []const u8) void {
    raw.error_set(msg.ptr, @intCast(msg.len));
}

/// Log a line to the host.
pub fn log(level: Level, msg: []const u8) void {
    raw.log(@intFromEnum(level), msg.ptr, @intCast(msg.len));
}

/// Append bytes to the call's output.
pub fn output(bytes: []const u8) void {
    _ = raw.output_write(bytes.ptr, @intCast(bytes.len));
}

/// The host's ABI major version (1).
pub fn abiVersion() i32 {
    return raw.abi_version();
}

/// One call: an arena (freed when the call ends) and the ABI as methods.
pub const Call = struct {
    arena: std.mem.Allocator,
    error_set: bool = false,

    /// Set the error message and return error.PluginError: `return call.fail("bad")`.
    pub fn fail(self: *Call, msg: []const u8) Error {
        setError(msg);
        self.error_set = true;
        return error.PluginError;
    }

    /// Like fail, with formatting.
    pub fn failf(self: *Call, comptime fmt: []const u8, args: anytype) Error {
        const msg = std.fmt.allocPrint(self.arena, fmt, args) catch "out of memory";
        return self.fail(msg);
    }

    /// The whole input (error "input too large" past max_input).
    pub fn inputBytes(self: *Call) ![]u8 {
        const n: usize = @intCast(raw.input_len());
        if (n > max_input) return self.fail("input too large");
        const buf = try self.arena.alloc(u8, n);
        var off: usize = 0;
        while (off < n) {
            const r = raw.input_read(buf.ptr + off, @intCast(n - off), @intCast(off));
            if (r <= 0) break;
            off += @intCast(r);
        }
        return buf[0..off];
    }

    /// The input as text (UTF-8 is not checked).
    pub fn inputString(self: *Call) ![]const u8 {
        return self.inputBytes();
    }

    /// The input parsed as a JSON value (error "invalid JSON input: ... at byte N").
    pub fn inputJson(self: *Call) !std.json.Value {
        const text = try self.inputBytes();
        return self.parseJson(std.json.Value, text);
    }

    /// The input parsed into a Zig type.
    pub fn inputJsonAs(self: *Call, comptime T: type) !T {
        const text = try self.inputBytes();
        return self.parseJson(T, text);
    }

    fn parseJson(self: *Call, comptime T: type, text: []const u8) !T {
        var scanner = std.json.Scanner.initCompleteInput(self.arena, text);
        var diag = std.json.Diagnostics{};
        scanner.enableDiagnostics(&diag);
        const v = std.json.parseFromTokenSourceLeaky(T, self.arena, &scanner, .{
            .ignore_unknown_fields = true,
        }) catch |e| {
            if (e == error.OutOfMemory) return e;
            return self.failf("invalid JSON input: {s} at byte {d}", .{ @errorName(e), diag.getByteOffset() });
        };
        return v;
    }

    /// Append bytes to the output.
    pub fn output(self: *Call, bytes: []const u8) void {
        _ = self;
        output_(bytes);
    }

    /// Append formatted text to the output.
    pub fn print(self: *Call, comptime fmt: []const u8, args: anytype) !void {
        output_(try std.fmt.allocPrint(self.arena, fmt, args));
    }

    /// Append a value as JSON (std.json.Value or any Zig value).
    pub fn outputJson(self: *Call, value: anytype) !void {
        var list = std.ArrayList(u8).init(self.arena);
        try std.json.stringify(value, .{}, list.writer());
        output_(list.items);
    }

    /// The config value for key, or null if it is not set.
    pub fn config(self: *Call, key: []const u8) !?[]const u8 {
        var small: [256]u8 = undefined;
        const n = raw.config_get(key.ptr, @intCast(key.len), &small, small.len);
        if (n < 0) return null;
        const len: usize = @intCast(n);
        const buf = try self.arena.alloc(u8, len);
        if (len <= small.len) {
            @memcpy(buf, small[0..len]);
        } else {
            _ = raw.config_get(key.ptr, @intCast(key.len), buf.ptr, n);
        }
        return buf;
    }

    /// The config value, or the error "missing config: KEY".
    pub fn requireConfig(self: *Call, key: []const u8) ![]const u8 {
        return (try self.config(key)) orelse self.failf("missing config: {s}", .{key});
    }

    /// An integer config value, `default` when unset ("config KEY: not an integer").
    pub fn configInt(self: *Call, key: []const u8, default: i64) !i64 {
        const v = (try self.config(key)) orelse return default;
        return std.fmt.parseInt(i64, std.mem.trim(u8, v, " "), 10) catch
            self.failf("config {s}: not an integer: {s}", .{ key, v });
    }

    /// Log a formatted line.
    pub fn logf(self: *Call, level: Level, comptime fmt: []const u8, args: anytype) void {
        const msg = std.fmt.allocPrint(self.arena, fmt, args) catch return;
        log(level, msg);
    }
};

fn output_(bytes: []const u8) void {
    output(bytes);
}

var call_arena = std.heap.ArenaAllocator.init(std.heap.page_allocator);

/// Run a plugin function with an empty arena; returns the ABI v1 result:
/// 0, or 1 with the error message set (the error's name when the function
/// did not set one).
pub fn run(comptime f: anytype) i32 {
    // One arena for the instance, emptied after each call but keeping its
    // pages: cheaper than getting them from the page allocator every call.
    const arena = &call_arena;
    defer _ = arena.reset(.{ .retain_with_limit = 1 << 20 });
    var call = Call{ .arena = arena.allocator() };
    f(&call) catch |e| {
        if (!call.error_set) {
            if (e == error.OutOfMemory) {
                setError("out of memory");
            } else {
                setError(@errorName(e));
            }
        }
        return 1;
    };
    return 0;
}
