// visit.zig - the host services through the Zig PDK (tests/services/test-pdk-services.sh).
const wp = @import("wasmplug");
export fn visit() i32 {
    return wp.run(visitImpl);
}
fn visitImpl(call: *wp.Call) !void {
    const name = try call.inputString();
    const seen = try wp.kvGet(call, name);
    wp.kvSet(name, "yes");
    _ = wp.kvDelete("x");
    _ = wp.kvCas("c", null, "1");
    const keys = try wp.kvList(call, "", null, 10);
    _ = try wp.dbExec(call, "CREATE TABLE IF NOT EXISTS t(x)", null);
    _ = try wp.dbExec(call, "INSERT INTO t VALUES(?1)", "[1]");
    const rows = try wp.dbQuery(call, "SELECT count(*) AS n FROM t", null);
    wp.notify(.info, if (seen != null) "again" else "first", name);
    try call.print("{d} {s}", .{ keys.len, rows });
}
