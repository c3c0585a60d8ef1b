// tally.zig - a workflow node type (prep, exec, post) through the Zig PDK
// (tests/services/test-pdk-nodes.sh).
const std = @import("std");
const wp = @import("wasmplug");

fn member(v: ?std.json.Value, key: []const u8) ?std.json.Value {
    const o = v orelse return null;
    if (o != .object) return null;
    return o.object.get(key);
}

fn number(v: ?std.json.Value, dflt: f64) f64 {
    const x = v orelse return dflt;
    return switch (x) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        else => dflt,
    };
}

fn text(v: ?std.json.Value) []const u8 {
    const x = v orelse return "";
    return if (x == .string) x.string else "";
}

/// prep: {"state": {"text": T}, "config": {"min": N}} -> {"text": T, "min": N}
export fn tally_prep() i32 {
    return wp.run(prep);
}
fn prep(call: *wp.Call) !void {
    const inp = try call.inputJson();
    const t = text(member(member(inp, "state"), "text"));
    const min = number(member(member(inp, "config"), "min"), 1);
    try call.outputJson(.{ .text = t, .min = min });
}

/// exec: prep's output -> {"long": words of at least min characters}
export fn tally_exec() i32 {
    return wp.run(exec);
}
fn exec(call: *wp.Call) !void {
    const inp = try call.inputJson();
    const min: usize = @intFromFloat(number(member(inp, "min"), 1));
    var long: usize = 0;
    var words = std.mem.splitScalar(u8, text(member(inp, "text")), ' ');
    while (words.next()) |w| {
        if ((std.unicode.utf8CountCodepoints(w) catch w.len) >= min) long += 1;
    }
    try call.print("{{\"long\":{d}}}", .{long});
}

/// post: "many" when two or more long words, else "few"; updates {long, by}
export fn tally_post() i32 {
    return wp.run(post);
}
fn post(call: *wp.Call) !void {
    const inp = try call.inputJson();
    const long = number(member(member(inp, "exec"), "long"), 0);
    const updates = try std.fmt.allocPrint(call.arena, "{{\"long\":{d},\"by\":\"zig\"}}", .{@as(u64, @intFromFloat(long))});
    wp.nodePost(if (long >= 2) "many" else "few", updates);
}
