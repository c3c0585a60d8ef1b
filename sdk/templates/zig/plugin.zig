//! A wasmplug plugin in Zig 0.11 (template). Export `greet`:
//! input {"name": "Ada"} -> {"message": "Hello, Ada!"}; config "greeting".
//! Build: ./build.sh
const std = @import("std");
const wp = @import("wasmplug");

fn greetImpl(call: *wp.Call) !void {
    const in = try call.inputJson();
    const name = if (in == .object) in.object.get("name") else null;
    if (name == null or name.? != .string) return call.fail("input needs a string \"name\"");
    const greeting = (try call.config("greeting")) orelse "Hello";
    const message = try std.fmt.allocPrint(call.arena, "{s}, {s}!", .{ greeting, name.?.string });
    wp.log(.info, "greeted");
    try call.outputJson(.{ .message = message });
}

export fn greet() i32 {
    return wp.run(greetImpl);
}
