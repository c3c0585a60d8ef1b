//! events_zig.zig - the Zig PDK's event API, driven by
//! tests/pdk/test_pdk_events.c (same behaviour as events_c.c):
//!   on_event  per event: publish pdk.echo {"lang","topic","n","hops","source"};
//!             a request is answered with {"lang","n"}
//!   ask       request pdk.service and output the reply
//!   refused   publish on forbidden.topic (not granted): output the refusal
const std = @import("std");
const wp = @import("wasmplug");

fn nOf(ev: wp.Event) f64 {
    if (ev.payload != .object) return -1;
    const v = ev.payload.object.get("n") orelse return -1;
    return switch (v) {
        .integer => |i| @floatFromInt(i),
        .float => |f| f,
        else => -1,
    };
}

fn echo(call: *wp.Call, ev: wp.Event) !void {
    try call.publishJson("pdk.echo", .{
        .lang = "zig",
        .topic = ev.topic,
        .n = nOf(ev),
        .hops = ev.hops,
        .source = ev.source,
    });
    const reply = try std.fmt.allocPrint(call.arena, "{{\"lang\":\"zig\",\"n\":{d}}}", .{nOf(ev)});
    call.reply(ev, reply);
}

export fn on_event() i32 {
    return wp.runEvents(echo);
}

fn askImpl(call: *wp.Call) !void {
    const reply = try call.request("pdk.service", "{\"q\":1}", 2000);
    call.output(reply);
}

export fn ask() i32 {
    return wp.run(askImpl);
}

fn refusedImpl(call: *wp.Call) !void {
    call.publish("forbidden.topic", "1") catch |e| {
        if (e != error.EventRefused) return e;
        try call.print("refused: {s}", .{call.event_error});
        return;
    };
    call.output("published");
}

export fn refused() i32 {
    return wp.run(refusedImpl);
}
