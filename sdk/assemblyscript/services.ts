// services.ts - host services (ABI 1.1, docs/ABI.md): key-value storage
// (KV, grant "kv"), the plugin's own SQL database (DB, grant "db") and
// notify (grant "notify"). Each grant is requested in plugin.yaml under
// permissions (storage, database, notify: true); importing a service without
// it fails the load. Misuse (an empty key, a quota exceeded, forbidden SQL)
// fails the whole call, and a failed call's writes are rolled back.

@external("wasmplug", "result_read")
declare function wp_result_read(ptr: usize, len: i32, offset: i32): i32;
@external("wasmplug", "kv_get")
declare function wp_kv_get(key: usize, keyLen: i32, out: usize, cap: i32): i32;
@external("wasmplug", "kv_set")
declare function wp_kv_set(key: usize, keyLen: i32, val: usize, valLen: i32): i32;
@external("wasmplug", "kv_delete")
declare function wp_kv_delete(key: usize, keyLen: i32): i32;
@external("wasmplug", "kv_list")
declare function wp_kv_list(prefix: usize, prefixLen: i32, after: usize, afterLen: i32,
                            limit: i32, out: usize, cap: i32): i32;
@external("wasmplug", "kv_cas")
declare function wp_kv_cas(key: usize, keyLen: i32, expected: usize, expectedLen: i32,
                           val: usize, valLen: i32, flags: i32): i32;
@external("wasmplug", "db_exec")
declare function wp_db_exec(sql: usize, sqlLen: i32, params: usize, paramsLen: i32): i32;
@external("wasmplug", "db_query")
declare function wp_db_query(sql: usize, sqlLen: i32, params: usize, paramsLen: i32,
                             out: usize, cap: i32): i32;
@external("wasmplug", "notify")
declare function wp_notify(level: i32, title: usize, titleLen: i32, body: usize,
                           bodyLen: i32): i32;

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** The whole result of the last service call (n bytes). */
function result(n: i32): Uint8Array {
  const buf = new Uint8Array(n > 0 ? n : 0);
  if (n > 0) wp_result_read(buf.dataStart, n, 0);
  return buf;
}

/** Key-value storage (grant "kv"). Keys are 1..1024 bytes. */
export class KV {
  /** The value of key, or null if it is absent. */
  static get(key: Uint8Array): Uint8Array | null {
    const n = wp_kv_get(key.dataStart, key.length, 0, 0);
    return n < 0 ? null : result(n);
  }
  /** The value of key as a string, or null. */
  static getString(key: string): string | null {
    const v = KV.get(utf8(key));
    return v === null ? null : String.UTF8.decode(v.buffer);
  }
  /** Set key to value. */
  static set(key: Uint8Array, value: Uint8Array): void {
    wp_kv_set(key.dataStart, key.length, value.dataStart, value.length);
  }
  static setString(key: string, value: string): void {
    KV.set(utf8(key), utf8(value));
  }
  /** Delete key: true if it existed. */
  static delete(key: Uint8Array): bool {
    return wp_kv_delete(key.dataStart, key.length) == 1;
  }
  /** Compare-and-set: if key holds expected (null: is absent), store value
   *  (null: delete it). True when it did. */
  static cas(key: Uint8Array, expected: Uint8Array | null, value: Uint8Array | null): bool {
    const e = expected === null ? new Uint8Array(0) : expected;
    const v = value === null ? new Uint8Array(0) : value;
    const flags = (expected === null ? 1 : 0) | (value === null ? 2 : 0);
    return wp_kv_cas(key.dataStart, key.length, e.dataStart, e.length, v.dataStart, v.length,
                     flags) == 1;
  }
  /** The keys starting with prefix, in byte order, after `after` (the last
   *  key of the previous page; null for the first), at most limit
   *  (1..10000). Fewer than limit keys means this was the last page. */
  static list(prefix: Uint8Array, after: Uint8Array | null, limit: i32): Uint8Array[] {
    const a = after === null ? new Uint8Array(0) : after;
    const n = wp_kv_list(prefix.dataStart, prefix.length, a.dataStart, a.length, limit, 0, 0);
    const all = result(n);
    const keys = new Array<Uint8Array>();
    let at = 0;
    while (at + 4 <= all.length) {
      const len = <i32>all[at] | (<i32>all[at + 1] << 8) | (<i32>all[at + 2] << 16) |
                  (<i32>all[at + 3] << 24);
      keys.push(all.slice(at + 4, at + 4 + len));
      at += 4 + len;
    }
    return keys;
  }
}

/** The plugin's own SQL database (grant "db"). params: a JSON array (?1, ?2)
 *  or object (:name) of scalars, or "" - bound, never spliced. */
export class DB {
  /** Run SQL (one or more statements): the rows changed, or -1 on an SQL
   *  error (DB.error()). */
  static exec(sql: string, params: string = ""): i32 {
    const s = utf8(sql), p = utf8(params);
    return wp_db_exec(s.dataStart, s.length, p.dataStart, p.length);
  }
  /** Run one query: its rows as a JSON array of objects, or null on an SQL
   *  error (DB.error()). */
  static query(sql: string, params: string = ""): string | null {
    const s = utf8(sql), p = utf8(params);
    const n = wp_db_query(s.dataStart, s.length, p.dataStart, p.length, 0, 0);
    return n < 0 ? null : String.UTF8.decode(result(n).buffer);
  }
  /** The message of the last SQL error. */
  static error(): string {
    const buf = new Uint8Array(512);
    const n = wp_result_read(buf.dataStart, buf.length, 0);
    return String.UTF8.decode(buf.subarray(0, n > 0 ? n : 0).slice().buffer);
  }
}

/** Notification levels. */
export enum NotifyLevel { Info = 0, Success = 1, Warning = 2, Error = 3 }

/** Show a notification (grant "notify"; title up to 256 bytes, body up to 64 KiB). */
export function notify(level: NotifyLevel, title: string, body: string = ""): void {
  const t = utf8(title), b = utf8(body);
  wp_notify(<i32>level, t.dataStart, t.length, b.dataStart, b.length);
}
