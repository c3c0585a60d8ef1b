//! file_icons.zig - the file-icons example plugin (Zig 0.11, wasmplug Zig PDK).
//!
//! Maps file names to an icon id and a colour for an editor's file tree.
//! Export `icon`: input {"name": "src/main.rs"} (optionally "directory": true)
//!   -> {"name":"src/main.rs","icon":"rust","color":"#dea584"}
//! Export `icons`: input {"names": ["a.c", "Makefile", ...]}
//!   -> {"icons":[{"name":..,"icon":..,"color":..}, ...]}
//! Matching: exact file names first (Makefile, Dockerfile, package.json...),
//! then the longest known extension (".d.ts" before ".ts"), case-insensitive.
//! Config: default_icon (default "file"), default_color (default "#9da5b4"),
//! folder_color (default "#dcb67a").
const std = @import("std");
const wp = @import("wasmplug");

const Icon = struct { icon: []const u8, color: []const u8 };
const Entry = struct { key: []const u8, icon: Icon };

const by_name = [_]Entry{
    .{ .key = "makefile", .icon = .{ .icon = "makefile", .color = "#e37933" } },
    .{ .key = "dockerfile", .icon = .{ .icon = "docker", .color = "#2496ed" } },
    .{ .key = "package.json", .icon = .{ .icon = "npm", .color = "#cb3837" } },
    .{ .key = "cargo.toml", .icon = .{ .icon = "cargo", .color = "#dea584" } },
    .{ .key = "cmakelists.txt", .icon = .{ .icon = "cmake", .color = "#064f8c" } },
    .{ .key = "plugin.yaml", .icon = .{ .icon = "wasmplug", .color = "#654ff0" } },
    .{ .key = "license", .icon = .{ .icon = "license", .color = "#d0bf41" } },
    .{ .key = "readme.md", .icon = .{ .icon = "readme", .color = "#519aba" } },
    .{ .key = ".gitignore", .icon = .{ .icon = "git", .color = "#f14e32" } },
};

const by_ext = [_]Entry{
    .{ .key = "d.ts", .icon = .{ .icon = "typescript-def", .color = "#3178c6" } },
    .{ .key = "c", .icon = .{ .icon = "c", .color = "#555555" } },
    .{ .key = "h", .icon = .{ .icon = "c-header", .color = "#a074c4" } },
    .{ .key = "cpp", .icon = .{ .icon = "cpp", .color = "#f34b7d" } },
    .{ .key = "rs", .icon = .{ .icon = "rust", .color = "#dea584" } },
    .{ .key = "zig", .icon = .{ .icon = "zig", .color = "#ec915c" } },
    .{ .key = "ts", .icon = .{ .icon = "typescript", .color = "#3178c6" } },
    .{ .key = "js", .icon = .{ .icon = "javascript", .color = "#f1e05a" } },
    .{ .key = "json", .icon = .{ .icon = "json", .color = "#cbcb41" } },
    .{ .key = "md", .icon = .{ .icon = "markdown", .color = "#519aba" } },
    .{ .key = "yaml", .icon = .{ .icon = "yaml", .color = "#cb171e" } },
    .{ .key = "yml", .icon = .{ .icon = "yaml", .color = "#cb171e" } },
    .{ .key = "toml", .icon = .{ .icon = "toml", .color = "#9c4221" } },
    .{ .key = "py", .icon = .{ .icon = "python", .color = "#3572a5" } },
    .{ .key = "go", .icon = .{ .icon = "go", .color = "#00add8" } },
    .{ .key = "wasm", .icon = .{ .icon = "wasm", .color = "#654ff0" } },
    .{ .key = "wat", .icon = .{ .icon = "wasm", .color = "#654ff0" } },
    .{ .key = "html", .icon = .{ .icon = "html", .color = "#e34c26" } },
    .{ .key = "css", .icon = .{ .icon = "css", .color = "#563d7c" } },
    .{ .key = "sh", .icon = .{ .icon = "shell", .color = "#89e051" } },
    .{ .key = "txt", .icon = .{ .icon = "text", .color = "#9da5b4" } },
    .{ .key = "png", .icon = .{ .icon = "image", .color = "#a074c4" } },
    .{ .key = "jpg", .icon = .{ .icon = "image", .color = "#a074c4" } },
    .{ .key = "svg", .icon = .{ .icon = "svg", .color = "#ffb13b" } },
    .{ .key = "lock", .icon = .{ .icon = "lock", .color = "#9da5b4" } },
};

const folders = [_]Entry{
    .{ .key = "src", .icon = .{ .icon = "folder-src", .color = "#4caf50" } },
    .{ .key = "tests", .icon = .{ .icon = "folder-test", .color = "#ff7043" } },
    .{ .key = "docs", .icon = .{ .icon = "folder-docs", .color = "#42a5f5" } },
    .{ .key = "node_modules", .icon = .{ .icon = "folder-node", .color = "#8bc34a" } },
    .{ .key = ".git", .icon = .{ .icon = "folder-git", .color = "#f14e32" } },
};

fn find(table: []const Entry, key: []const u8) ?Icon {
    for (table) |e| {
        if (std.mem.eql(u8, e.key, key)) return e.icon;
    }
    return null;
}

const Defaults = struct { file: Icon, folder_color: []const u8 };

/// The icon of one path (its last component, lower-cased).
fn lookup(call: *wp.Call, path: []const u8, is_dir: bool, d: Defaults) !Icon {
    const trimmed = std.mem.trimRight(u8, path, "/");
    const base = if (std.mem.lastIndexOfScalar(u8, trimmed, '/')) |i| trimmed[i + 1 ..] else trimmed;
    const lower = try std.ascii.allocLowerString(call.arena, base);
    if (is_dir) {
        return find(&folders, lower) orelse Icon{ .icon = "folder", .color = d.folder_color };
    }
    if (find(&by_name, lower)) |hit| return hit;
    // Extensions from the longest ("d.ts") to the shortest ("ts"); a leading
    // dot alone (".bashrc") is not an extension.
    var i: usize = 1;
    while (i < lower.len) : (i += 1) {
        if (lower[i] == '.') {
            if (find(&by_ext, lower[i + 1 ..])) |hit| return hit;
        }
    }
    return d.file;
}

fn defaults(call: *wp.Call) !Defaults {
    return .{
        .file = .{
            .icon = (try call.config("default_icon")) orelse "file",
            .color = (try call.config("default_color")) orelse "#9da5b4",
        },
        .folder_color = (try call.config("folder_color")) orelse "#dcb67a",
    };
}

const Result = struct { name: []const u8, icon: []const u8, color: []const u8 };

fn iconImpl(call: *wp.Call) !void {
    const in = try call.inputJson();
    if (in != .object) return call.fail("input must be a JSON object with \"name\"");
    const name = in.object.get("name") orelse return call.fail("input needs \"name\"");
    if (name != .string) return call.fail("\"name\" must be a string");
    const dir = if (in.object.get("directory")) |v| (v == .bool and v.bool) else false;
    const found = try lookup(call, name.string, dir, try defaults(call));
    try call.outputJson(Result{ .name = name.string, .icon = found.icon, .color = found.color });
}

fn iconsImpl(call: *wp.Call) !void {
    const in = try call.inputJson();
    if (in != .object) return call.fail("input must be a JSON object with \"names\"");
    const names = in.object.get("names") orelse return call.fail("input needs \"names\"");
    if (names != .array) return call.fail("\"names\" must be an array of strings");
    const d = try defaults(call);
    var out = std.ArrayList(Result).init(call.arena);
    for (names.array.items) |n| {
        if (n != .string) return call.fail("\"names\" must be an array of strings");
        const dir = std.mem.endsWith(u8, n.string, "/");
        const found = try lookup(call, n.string, dir, d);
        try out.append(.{ .name = n.string, .icon = found.icon, .color = found.color });
    }
    try call.outputJson(.{ .icons = out.items });
    call.logf(.debug, "file-icons: {d} names", .{out.items.len});
}

export fn icon() i32 {
    return wp.run(iconImpl);
}

export fn icons() i32 {
    return wp.run(iconsImpl);
}
