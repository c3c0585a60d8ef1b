// fetch.zig - outbound HTTP through the Zig PDK (tests/http/pdk-http.sh):
// httpGet + JSON, httpPost with a header, http.postJson, and a refused URL.
const std = @import("std");
const wp = @import("wasmplug");
export fn fetch() i32 {
    return wp.run(fetchImpl);
}
fn fetchImpl(call: *wp.Call) !void {
    const base = try call.inputString();
    const a = call.arena;
    const got = try call.httpGet(try std.fmt.allocPrint(a, "{s}/json", .{base}));
    const doc = try got.json(a);
    const post = try call.httpPost(try std.fmt.allocPrint(a, "{s}/echo", .{base}), "ping", "X-Test: yes");
    const echoed = try wp.http.postJson(a, try std.fmt.allocPrint(a, "{s}/echo", .{base}), .{ .a = 1 });
    const echoed_doc = try echoed.json(a);
    const refused = try call.httpGet(try std.fmt.allocPrint(a, "{s}/count", .{base}));
    try call.print("city={s} readings={d} post={d} {s} {s} json={d} refused={d}", .{
        doc.object.get("city").?.string,
        doc.object.get("readings").?.array.items.len,
        post.status,
        post.header("X-Method") orelse "?",
        post.body,
        echoed_doc.object.get("a").?.integer,
        @intFromEnum(refused.err.?),
    });
}
