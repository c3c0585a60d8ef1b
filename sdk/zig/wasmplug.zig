//! wasmplug.zig - the Zig plugin development kit for wasmplug (Zig 0.11,
//! plugin ABI v1, docs/ABI.md). Same shape as the other PDKs: input as
//! bytes / string / JSON, output, config, logs and errors, plus `run`, which
//! gives each call an arena allocator and turns Zig errors into the call's
//! error, and the event bus (Call.publish, Call.request, runEvents):
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
    pub extern "wasmplug" fn result_read(ptr: [*]u8, len: i32, offset: i32) i32;
    // Imported only by plugins that call http (needs the host's http permission).
    pub extern "wasmplug" fn http_request(req: [*]const u8, req_len: i32, out: [*]u8, out_cap: i32) i32;

    // ABI 1.1, the event bus (imported only by plugins that use them).
    pub extern "wasmplug" fn event_publish(topic: [*]const u8, topic_len: i32, payload: [*]const u8, payload_len: i32) i32;
    pub extern "wasmplug" fn event_request(topic: [*]const u8, topic_len: i32, payload: [*]const u8, payload_len: i32, timeout_ms: i32) i32;
};

/// Log levels of wasmplug.log.
pub const Level = enum(i32) { trace = 0, debug = 1, info = 2, warn = 3, err = 4 };

/// The largest input inputBytes accepts (16 MiB).
pub const max_input: usize = 16 << 20;

/// Errors a plugin function may return; `error.PluginError` means "the
/// message is already set" (see Call.fail).
pub const Error = error{ PluginError, InputTooLarge, InvalidJson, MissingConfig, InvalidConfig, EventRefused };

/// One event as a handler sees it (in the call's arena).
pub const Event = struct {
    topic: []const u8,
    id: f64 = 0,
    /// Publish time, ms since the Unix epoch.
    time: f64 = 0,
    /// "host" or the publishing plugin.
    source: []const u8 = "",
    hops: i64 = 0,
    /// A request's inbox (see Call.reply), or null.
    reply_to: ?[]const u8 = null,
    payload: std.json.Value = .null,
};

fn jsonNumber(v: ?std.json.Value) f64 {
    const x = v orelse return 0;
    return switch (x) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        else => 0,
    };
}

fn jsonString(v: ?std.json.Value) ?[]const u8 {
    const x = v orelse return null;
    return switch (x) {
        .string => |str| str,
        else => null,
    };
}

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

/// Workflow nodes (docs/ABI.md "Workflow nodes"): a node type's prep, exec
/// and post phases are ordinary exports named in the manifest's `nodes:`.
/// A post phase ends with nodePost: the next action and the state updates
/// (the text of a JSON object merged into the workflow's state, or null).
pub fn nodePost(action: []const u8, updates_json: ?[]const u8) void {
    output("{\"action\":\"");
    for (action) |c| {
        if (c == '"' or c == '\\') output("\\");
        if (c >= 0x20) output(&[_]u8{c});
    }
    output("\"");
    if (updates_json) |u| {
        output(",\"updates\":");
        output(u);
    }
    output("}");
}

/// The host's ABI major version (1).
pub fn abiVersion() i32 {
    return raw.abi_version();
}

/// One call: an arena (freed when the call ends) and the ABI as methods.
pub const Call = struct {
    arena: std.mem.Allocator,
    error_set: bool = false,
    /// Why the last publish or request was refused (error.EventRefused).
    event_error: []const u8 = "",

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

    /// GET url (see `http`); the response lives in the call's arena.
    pub fn httpGet(self: *Call, url: []const u8) !HttpResponse {
        return http.request(self.arena, "GET", url, "", "");
    }

    /// POST body to url with "Name: value\n" header lines.
    pub fn httpPost(self: *Call, url: []const u8, body: []const u8, headers: []const u8) !HttpResponse {
        return http.request(self.arena, "POST", url, headers, body);
    }

    // ---- the event bus (ABI 1.1; the host attaches its bus: docs/ABI.md "Events") ----

    fn eventFrom(self: *Call, v: std.json.Value) !Event {
        if (v != .object) return self.fail("the input is not an event");
        const o = v.object;
        return Event{
            .topic = jsonString(o.get("topic")) orelse return self.fail("the input is not an event (no topic)"),
            .id = jsonNumber(o.get("id")),
            .time = jsonNumber(o.get("time")),
            .source = jsonString(o.get("source")) orelse "",
            .hops = @intFromFloat(jsonNumber(o.get("hops"))),
            .reply_to = jsonString(o.get("reply_to")),
            .payload = o.get("payload") orelse .null,
        };
    }

    /// The events of a handler's input: one, or every event of a batch.
    pub fn inputEvents(self: *Call) ![]Event {
        const v = try self.inputJson();
        switch (v) {
            .array => |a| {
                const out = try self.arena.alloc(Event, a.items.len);
                for (a.items, 0..) |item, i| out[i] = try self.eventFrom(item);
                return out;
            },
            else => {
                const out = try self.arena.alloc(Event, 1);
                out[0] = try self.eventFrom(v);
                return out;
            },
        }
    }

    /// The result of the last service import: a reply, or why it failed.
    pub fn eventResult(self: *Call) ![]const u8 {
        var list = std.ArrayList(u8).init(self.arena);
        var chunk: [256]u8 = undefined;
        while (true) {
            const n = raw.result_read(&chunk, chunk.len, @intCast(list.items.len));
            if (n <= 0) break;
            try list.appendSlice(chunk[0..@intCast(n)]);
        }
        return list.items;
    }

    /// Publish JSON text on topic: sent when the call returns success,
    /// dropped if it fails. error.EventRefused when the host refused it
    /// (bad topic, topic not granted, too large, hop limit; see event_error).
    pub fn publish(self: *Call, topic: []const u8, payload_json: []const u8) !void {
        const rc = raw.event_publish(topic.ptr, @intCast(topic.len), payload_json.ptr, @intCast(payload_json.len));
        if (rc < 0) {
            self.event_error = try self.eventResult();
            return error.EventRefused;
        }
    }

    /// Publish any value as JSON.
    pub fn publishJson(self: *Call, topic: []const u8, value: anytype) !void {
        var list = std.ArrayList(u8).init(self.arena);
        try std.json.stringify(value, .{}, list.writer());
        return self.publish(topic, list.items);
    }

    /// Request/reply: publish and wait up to timeout_ms for the first reply
    /// (sent at once). error.EventRefused with event_error on failure.
    pub fn request(self: *Call, topic: []const u8, payload_json: []const u8, timeout_ms: i32) ![]const u8 {
        const rc = raw.event_request(topic.ptr, @intCast(topic.len), payload_json.ptr, @intCast(payload_json.len), timeout_ms);
        const result = try self.eventResult();
        if (rc < 0) {
            self.event_error = result;
            return error.EventRefused;
        }
        return result;
    }

    /// Answer a request event (single, unbatched delivery): the reply is the
    /// handler's output.
    pub fn reply(self: *Call, ev: Event, payload_json: []const u8) void {
        if (ev.reply_to != null) self.output(payload_json);
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
        if (e == error.EventRefused and !call.error_set) {
            setError(call.event_error);
            return 1;
        }
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

// ---- outbound HTTP (docs/ABI.md "Outbound HTTP"; needs the http permission) ----

/// Why a request failed (HttpResponse.err): the host's codes.
pub const HttpError = enum(i32) {
    not_granted = 1, bad_request, forbidden_header, url_not_allowed, redirect_not_allowed,
    too_many_redirects, address_not_allowed, request_too_large, response_too_large,
    too_many_requests, timeout, cancelled, dns, connect, tls, network, no_memory,
    _,
};

/// A response. err != null: the request failed (status 0) and error_message
/// says why. Any status (404, 500, ...) is a response.
pub const HttpResponse = struct {
    status: u16 = 0,
    err: ?HttpError = null,
    error_message: []const u8 = "",
    /// "Name: value\n" lines.
    headers: []const u8 = "",
    body: []const u8 = "",

    /// A header's value (case-insensitive name, first match), or null.
    pub fn header(self: HttpResponse, name: []const u8) ?[]const u8 {
        var it = std.mem.splitScalar(u8, self.headers, '\n');
        while (it.next()) |line| {
            const colon = std.mem.indexOfScalar(u8, line, ':') orelse continue;
            if (std.ascii.eqlIgnoreCase(line[0..colon], name))
                return std.mem.trimLeft(u8, line[colon + 1 ..], " ");
        }
        return null;
    }

    /// The body parsed as a JSON value (in allocator).
    pub fn json(self: HttpResponse, allocator: std.mem.Allocator) !std.json.Value {
        return std.json.parseFromSliceLeaky(std.json.Value, allocator, self.body, .{});
    }
};

pub const http = struct {
    /// Send a request; headers are "Name: value\n" lines. The response is
    /// allocated with allocator.
    pub fn request(allocator: std.mem.Allocator, method: []const u8, url: []const u8, headers: []const u8, body: []const u8) !HttpResponse {
        var req = std.ArrayList(u8).init(allocator);
        try req.writer().print("{s} {s}\n{s}", .{ method, url, headers });
        if (headers.len > 0 and headers[headers.len - 1] != '\n') try req.append('\n');
        try req.append('\n');
        try req.appendSlice(body);
        var small: [4096]u8 = undefined;
        const n = raw.http_request(req.items.ptr, @intCast(req.items.len), &small, small.len);
        var len: usize = 0;
        if (n < 0) { // the message is the result: measure it
            while (true) {
                const k = raw.result_read(&small, small.len, @intCast(len));
                if (k <= 0) break;
                len += @intCast(k);
            }
        } else {
            len = @intCast(n);
        }
        const all = try allocator.alloc(u8, len);
        if (n >= 0 and len <= small.len) {
            @memcpy(all, small[0..len]);
        } else if (len > 0) {
            _ = raw.result_read(all.ptr, @intCast(len), 0);
        }
        if (n < 0) return .{ .err = @enumFromInt(-n), .error_message = all };
        var r = HttpResponse{};
        var i: usize = 0;
        while (i < len and all[i] >= '0' and all[i] <= '9') : (i += 1) r.status = r.status *% 10 +% (all[i] - '0');
        if (i < len) i += 1;
        const h = i;
        while (i < len and all[i] != '\n') { // header lines end at an empty line
            while (i < len and all[i] != '\n') i += 1;
            i += 1;
        }
        r.headers = all[h..@min(i, len)];
        if (i < len) i += 1;
        r.body = all[@min(i, len)..];
        return r;
    }

    pub fn get(allocator: std.mem.Allocator, url: []const u8) !HttpResponse {
        return request(allocator, "GET", url, "", "");
    }

    pub fn post(allocator: std.mem.Allocator, url: []const u8, body: []const u8, headers: []const u8) !HttpResponse {
        return request(allocator, "POST", url, headers, body);
    }

    /// POST a value as JSON (Content-Type: application/json).
    pub fn postJson(allocator: std.mem.Allocator, url: []const u8, value: anytype) !HttpResponse {
        var list = std.ArrayList(u8).init(allocator);
        try std.json.stringify(value, .{}, list.writer());
        return post(allocator, url, list.items, "Content-Type: application/json\n");
    }
};

// ---- host services (ABI 1.1): key-value storage, SQL, notifications ----
//
// Each needs its grant, requested in plugin.yaml under `permissions`
// (`storage`, `database`, `notify: true`); importing one without it fails
// the load. Misuse (an empty key, a quota exceeded, forbidden SQL) fails the
// whole call, and a failed call's writes are rolled back. Results live in
// the call's arena.
pub const svc = struct {
    pub extern "wasmplug" fn kv_get(key: [*]const u8, key_len: i32, out: [*]u8, cap: i32) i32;
    pub extern "wasmplug" fn kv_set(key: [*]const u8, key_len: i32, val: [*]const u8, val_len: i32) i32;
    pub extern "wasmplug" fn kv_delete(key: [*]const u8, key_len: i32) i32;
    pub extern "wasmplug" fn kv_list(prefix: [*]const u8, prefix_len: i32, after: [*]const u8, after_len: i32, limit: i32, out: [*]u8, cap: i32) i32;
    pub extern "wasmplug" fn kv_cas(key: [*]const u8, key_len: i32, expected: [*]const u8, expected_len: i32, val: [*]const u8, val_len: i32, flags: i32) i32;
    pub extern "wasmplug" fn db_exec(sql: [*]const u8, sql_len: i32, params: [*]const u8, params_len: i32) i32;
    pub extern "wasmplug" fn db_query(sql: [*]const u8, sql_len: i32, params: [*]const u8, params_len: i32, out: [*]u8, cap: i32) i32;
    pub extern "wasmplug" fn notify(level: i32, title: [*]const u8, title_len: i32, body: [*]const u8, body_len: i32) i32;
};

/// The whole result of the last service call (n bytes, the first part in small).
fn serviceResult(call: *Call, n: i32, small: []const u8) ![]u8 {
    const len: usize = @intCast(@max(n, 0));
    const buf = try call.arena.alloc(u8, len);
    if (len <= small.len) {
        @memcpy(buf, small[0..len]);
    } else {
        _ = raw.result_read(buf.ptr, @intCast(len), 0);
    }
    return buf;
}

/// The value of key, or null if it is absent (grant kv).
pub fn kvGet(call: *Call, key: []const u8) !?[]u8 {
    var small: [256]u8 = undefined;
    const n = svc.kv_get(key.ptr, @intCast(key.len), &small, small.len);
    if (n < 0) return null;
    return try serviceResult(call, n, &small);
}

/// Set key to value.
pub fn kvSet(key: []const u8, value: []const u8) void {
    _ = svc.kv_set(key.ptr, @intCast(key.len), value.ptr, @intCast(value.len));
}

/// Delete key: true if it existed.
pub fn kvDelete(key: []const u8) bool {
    return svc.kv_delete(key.ptr, @intCast(key.len)) == 1;
}

/// Compare-and-set: if key holds `expected` (null: is absent), store
/// `value` (null: delete it). True when it did.
pub fn kvCas(key: []const u8, expected: ?[]const u8, value: ?[]const u8) bool {
    const e = expected orelse "";
    const v = value orelse "";
    const flags: i32 = @as(i32, @intFromBool(expected == null)) | (@as(i32, @intFromBool(value == null)) << 1);
    return svc.kv_cas(key.ptr, @intCast(key.len), e.ptr, @intCast(e.len), v.ptr, @intCast(v.len), flags) == 1;
}

/// The keys starting with prefix, in byte order, after `after` (the last
/// key of the previous page; null for the first), at most `limit`
/// (1..10000). Fewer than `limit` keys means this was the last page.
pub fn kvList(call: *Call, prefix: []const u8, after: ?[]const u8, limit: u32) ![][]const u8 {
    var small: [1024]u8 = undefined;
    const a = after orelse "";
    const n = svc.kv_list(prefix.ptr, @intCast(prefix.len), a.ptr, @intCast(a.len), @intCast(limit), &small, small.len);
    const all = try serviceResult(call, n, &small);
    var keys = std.ArrayList([]const u8).init(call.arena);
    var at: usize = 0;
    while (at + 4 <= all.len) {
        const len = std.mem.readIntLittle(u32, all[at..][0..4]);
        try keys.append(all[at + 4 .. at + 4 + len]);
        at += 4 + len;
    }
    return keys.toOwnedSlice();
}

/// Run SQL (one or more statements) with params a JSON array (?1, ?2) or
/// object (:name), or null; bound, never spliced (grant db). The rows
/// changed; an SQL error fails the call with its message.
pub fn dbExec(call: *Call, sql: []const u8, params: ?[]const u8) !i32 {
    const p = params orelse "";
    const n = svc.db_exec(sql.ptr, @intCast(sql.len), p.ptr, @intCast(p.len));
    if (n < 0) return call.fail(try dbError(call));
    return n;
}

/// Run one query: its rows as a JSON array of objects; an SQL error fails
/// the call with its message.
pub fn dbQuery(call: *Call, sql: []const u8, params: ?[]const u8) ![]u8 {
    const p = params orelse "";
    var small: [512]u8 = undefined;
    const n = svc.db_query(sql.ptr, @intCast(sql.len), p.ptr, @intCast(p.len), &small, small.len);
    if (n < 0) return call.fail(try dbError(call));
    return try serviceResult(call, n, &small);
}

fn dbError(call: *Call) ![]u8 {
    const buf = try call.arena.alloc(u8, 512);
    const n = raw.result_read(buf.ptr, @intCast(buf.len), 0);
    return buf[0..@intCast(@max(n, 0))];
}

/// Notification levels.
pub const NotifyLevel = enum(i32) { info = 0, success = 1, warning = 2, err = 3 };

/// Show a notification (grant notify; title up to 256 bytes, body up to 64 KiB).
pub fn notify(level: NotifyLevel, title: []const u8, body: []const u8) void {
    _ = svc.notify(@intFromEnum(level), title.ptr, @intCast(title.len), body.ptr, @intCast(body.len));
}

/// Run an event handler once per event of the input, in order (a batch too):
///     export fn on_event() i32 { return wp.runEvents(onContent); }
///     fn onContent(call: *wp.Call, ev: wp.Event) !void { ... }
/// An error fails the delivery (the bus retries it as configured).
pub fn runEvents(comptime handler: anytype) i32 {
    const S = struct {
        fn each(call: *Call) !void {
            for (try call.inputEvents()) |ev| try handler(call, ev);
        }
    };
    return run(S.each);
}

/// Run a batch handler on all events of one delivery at once
/// (handleEventBatch style): fn onBatch(call: *wp.Call, events: []wp.Event) !void
pub fn runEventBatch(comptime handler: anytype) i32 {
    const S = struct {
        fn all(call: *Call) !void {
            try handler(call, try call.inputEvents());
        }
    };
    return run(S.all);
}
