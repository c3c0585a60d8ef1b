// @wasmplug/pdk - the AssemblyScript plugin development kit for wasmplug.
// A typed API over the plugin ABI v1 (docs/ABI.md): Input, Output, Config,
// Log, fail() for errors, a small JSON value type (JSONValue / JSON), the
// host services (KV, DB, notify: services.ts), the
// event bus (Events, Event: publish, request, on_event handlers), and
// wasmplugAbort, a replacement for AssemblyScript's env.abort import
// (build with --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort).
// Works with the stub, minimal and incremental runtimes (see collect()).

export { JSON, JSONValue, JSONKind } from "./json";
export { KV, DB, notify, NotifyLevel } from "./services";
import { JSON, JSONValue } from "./json";

// ---- the ABI v1 imports (module "wasmplug") ----

@external("wasmplug", "input_len")
declare function wp_input_len(): i32;
@external("wasmplug", "input_read")
declare function wp_input_read(ptr: usize, len: i32, offset: i32): i32;
@external("wasmplug", "output_write")
declare function wp_output_write(ptr: usize, len: i32): i32;
@external("wasmplug", "error_set")
declare function wp_error_set(ptr: usize, len: i32): void;
@external("wasmplug", "log")
declare function wp_log(level: i32, ptr: usize, len: i32): void;
@external("wasmplug", "config_get")
declare function wp_config_get(keyPtr: usize, keyLen: i32, outPtr: usize, outCap: i32): i32;
@external("wasmplug", "abi_version")
declare function wp_abi_version(): i32;
@external("wasmplug", "result_read")
declare function wp_result_read(ptr: usize, len: i32, offset: i32): i32;
// Imported only by plugins that use `http` (needs the host's http permission).
@external("wasmplug", "http_request")
declare function wp_http_request(reqPtr: usize, reqLen: i32, outPtr: usize, outCap: i32): i32;
// ABI 1.1, the event bus (imported only by plugins that use Events).
@external("wasmplug", "event_publish")
declare function wp_event_publish(topicPtr: usize, topicLen: i32, payloadPtr: usize,
                                  payloadLen: i32): i32;
@external("wasmplug", "event_request")
declare function wp_event_request(topicPtr: usize, topicLen: i32, payloadPtr: usize,
                                  payloadLen: i32, timeoutMs: i32): i32;

/** The host's ABI major version (1). */
export function abiVersion(): i32 {
  return wp_abi_version();
}

/** The largest input Input.bytes() accepts (16 MiB); larger inputs fail. */
export const MAX_INPUT: i32 = 16 << 20;

/** The call's input. */
export class Input {
  /** Length in bytes. */
  static length(): i32 {
    return wp_input_len();
  }

  /** The whole input, or null (with the call's error set) when it is larger
   *  than MAX_INPUT. */
  static bytes(): Uint8Array | null {
    const n = wp_input_len();
    if (n > MAX_INPUT) {
      setError("input too large");
      return null;
    }
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const r = wp_input_read(buf.dataStart + <usize>off, n - off, off);
      if (r <= 0) break;
      off += r;
    }
    return off == n ? buf : buf.subarray(0, off);
  }

  /** The input decoded as UTF-8 ("" when it is too large: check Input.bytes()). */
  static string(): string {
    const b = Input.bytes();
    if (b == null) return "";
    return String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
  }

  /** The input parsed as JSON, or null with the call's error set to
   *  "invalid JSON input: <reason> at <position>". */
  static json(): JSONValue | null {
    const b = Input.bytes();
    if (b == null) return null;
    const s = String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
    const v = JSON.parse(s);
    if (v == null) setError("invalid JSON input: " + JSON.lastError);
    return v;
  }
}

/** The call's output. Each set/append call appends bytes. */
export class Output {
  /** Append a string (UTF-8). */
  static set(s: string): void {
    const b = String.UTF8.encode(s);
    wp_output_write(changetype<usize>(b), b.byteLength);
  }
  /** Append bytes. */
  static setBytes(b: Uint8Array): void {
    wp_output_write(b.dataStart, b.length);
  }
  /** Append a JSON value (serialized compactly). */
  static setJSON(v: JSONValue): void {
    Output.set(v.toString());
  }
}

/**
 * Workflow nodes (docs/ABI.md "Workflow nodes"): a node type's prep, exec
 * and post phases are ordinary exports named in the manifest's `nodes:`;
 * read their JSON input with Input. A post phase ends with nodePost: the
 * next action and the state updates (a JSON object merged into the
 * workflow's state, or null for none).
 */
export function nodePost(action: string = "default", updates: JSONValue | null = null): void {
  let out = '{"action":' + JSON.str(action).toString();
  if (updates != null) out += ',"updates":' + updates.toString();
  Output.set(out + "}");
}

/** Plugin config values (strings) from the manifest and the host. */
export class Config {
  /** The value for key, or null if it is not set. */
  static get(key: string): string | null {
    const k = String.UTF8.encode(key);
    const small = new Uint8Array(256);
    const n = wp_config_get(changetype<usize>(k), k.byteLength, small.dataStart, 256);
    if (n < 0) return null;
    if (n <= 256) return String.UTF8.decodeUnsafe(small.dataStart, <usize>n);
    const big = new Uint8Array(n);
    wp_config_get(changetype<usize>(k), k.byteLength, big.dataStart, n);
    return String.UTF8.decodeUnsafe(big.dataStart, <usize>n);
  }
  /** The value for key, or dflt. */
  static getOr(key: string, dflt: string): string {
    const v = Config.get(key);
    return v == null ? dflt : v;
  }
  /** Whether key is set. */
  static has(key: string): bool {
    return Config.get(key) != null;
  }
  /** A number: the value parsed, dflt when unset, NaN when not a number. */
  static getNumber(key: string, dflt: f64): f64 {
    const v = Config.get(key);
    if (v == null) return dflt;
    const j = JSON.parse(v);
    if (j == null || !j.isNumber) return NaN;
    return j.num;
  }
}

function logAt(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  wp_log(level, changetype<usize>(b), b.byteLength);
}

/** Log lines to the host (levels trace, debug, info, warn, error). */
export class Log {
  static trace(msg: string): void { logAt(0, msg); }
  static debug(msg: string): void { logAt(1, msg); }
  static info(msg: string): void { logAt(2, msg); }
  static warn(msg: string): void { logAt(3, msg); }
  static error(msg: string): void { logAt(4, msg); }
}

/** One event as a handler sees it. */
export class Event {
  topic: string = "";
  id: f64 = 0;
  /** Publish time, ms since the Unix epoch. */
  time: f64 = 0;
  /** "host" or the publishing plugin. */
  source: string = "";
  hops: i32 = 0;
  /** A request's inbox (see Events.reply), or null. */
  replyTo: string | null = null;
  payload: JSONValue = JSON.null();

  static fromJSON(v: JSONValue): Event | null {
    const topic = v.getString("topic");
    if (topic == null) return null;
    const e = new Event();
    e.topic = topic;
    e.id = v.getNumber("id", 0);
    e.time = v.getNumber("time", 0);
    const source = v.getString("source");
    e.source = source == null ? "" : source;
    e.hops = <i32>v.getNumber("hops", 0);
    e.replyTo = v.getString("reply_to");
    const p = v.get("payload");
    if (p != null) e.payload = p;
    return e;
  }
}

/** The result of the last service import: a reply, or why it failed. */
function serviceResult(): string {
  let out = "";
  const chunk = new Uint8Array(256);
  let off = 0;
  for (;;) {
    const n = wp_result_read(chunk.dataStart, 256, off);
    if (n <= 0) break;
    out += String.UTF8.decodeUnsafe(chunk.dataStart, <usize>n);
    off += n;
  }
  return out;
}

/** The event bus (ABI 1.1; the host attaches its bus: docs/ABI.md "Events"). */
export class Events {
  /** Why the last publish or request failed. */
  static lastError: string = "";

  /** The events of a handler's input: one, or every event of a batch;
   *  null (the call's error set) if the input is not events. */
  static fromInput(): Array<Event> | null {
    const v = Input.json();
    if (v == null) return null;
    const out = new Array<Event>();
    const n = v.isArray ? v.length : 1;
    for (let i = 0; i < n; i++) {
      const e = Event.fromJSON(v.isArray ? v.items[i] : v);
      if (e == null) {
        setError("the input is not an event (no topic)");
        return null;
      }
      out.push(e);
    }
    return out;
  }

  /** Publish JSON text on topic: sent when the current call returns success,
   *  dropped if it fails. Returns 0, or -status (Events.lastError says why:
   *  bad topic, topic not granted, too large, hop limit). */
  static publishText(topic: string, json: string): i32 {
    const t = String.UTF8.encode(topic);
    const p = String.UTF8.encode(json);
    const rc = wp_event_publish(changetype<usize>(t), t.byteLength, changetype<usize>(p),
                                p.byteLength);
    Events.lastError = rc < 0 ? serviceResult() : "";
    return rc;
  }

  /** Publish a JSON value (see publishText). */
  static publish(topic: string, payload: JSONValue): i32 {
    return Events.publishText(topic, payload.toString());
  }

  /** Request/reply: publish and wait up to timeoutMs for the first reply
   *  (sent at once). The reply, or null with Events.lastError set. */
  static request(topic: string, payload: JSONValue, timeoutMs: i32): string | null {
    const t = String.UTF8.encode(topic);
    const p = String.UTF8.encode(payload.toString());
    const rc = wp_event_request(changetype<usize>(t), t.byteLength, changetype<usize>(p),
                                p.byteLength, timeoutMs);
    const r = serviceResult();
    Events.lastError = rc < 0 ? r : "";
    return rc < 0 ? null : r;
  }

  /** Answer a request event (single, unbatched delivery): the reply is the
   *  handler's output. */
  static reply(ev: Event, payload: JSONValue): void {
    if (ev.replyTo != null) Output.setJSON(payload);
  }

  /** Run handler once per event of the input, in order (a batch too):
   *  `export function on_event(): i32 { return Events.handle(onContent); }`.
   *  A non-zero return stops and fails the delivery. */
  static handle(handler: (ev: Event) => i32): i32 {
    const evs = Events.fromInput();
    if (evs == null) return 1;
    for (let i = 0; i < evs.length; i++) {
      const rc = handler(evs[i]);
      if (rc != 0) return rc;
    }
    return 0;
  }

  /** Run handler on all events of one delivery at once (handleEventBatch
   *  style): `export function on_event(): i32 { return Events.handleBatch(onBatch); }`. */
  static handleBatch(handler: (evs: Array<Event>) => i32): i32 {
    const evs = Events.fromInput();
    return evs == null ? 1 : handler(evs);
  }
}

/** Set the message of the call's failure (the last one wins). */
export function setError(msg: string): void {
  const b = String.UTF8.encode(msg);
  wp_error_set(changetype<usize>(b), b.byteLength);
}

/** Set the failure message and return code: `return fail("bad input")`. */
export function fail(msg: string, code: i32 = 1): i32 {
  setError(msg);
  return code == 0 ? 1 : code;
}

/**
 * Free the garbage of this call now. With --runtime minimal (TLSF, no
 * automatic GC) call it before returning from each plugin function so
 * memory stays bounded; with incremental it forces a full collection; with
 * stub (which never frees) it does nothing.
 */
export function collect(): void {
  __collect();
}

/** Replacement for env.abort: the message becomes the call's error message
 *  and an error log line, then the call traps. */
export function wasmplugAbort(message: string | null, fileName: string | null, line: u32,
                              column: u32): void {
  let text = "abort: " + (message == null ? "(no message)" : message);
  if (fileName != null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  setError(text);
  logAt(4, text);
  unreachable();
}

// ---- outbound HTTP (docs/ABI.md "Outbound HTTP"; needs the http permission) ----

/** Why a request failed (HttpResponse.error): the host's codes. */
export enum HttpError {
  None = 0, NotGranted, BadRequest, ForbiddenHeader, UrlNotAllowed, RedirectNotAllowed,
  TooManyRedirects, AddressNotAllowed, RequestTooLarge, ResponseTooLarge, TooManyRequests,
  Timeout, Cancelled, Dns, Connect, Tls, Network, NoMemory
}

/** A response. error != HttpError.None: the request failed (no status) and
 *  errorMessage says why. Any status (404, 500, ...) is a response. */
export class HttpResponse {
  status: i32 = 0;
  error: HttpError = HttpError.None;
  errorMessage: string = "";
  /** "Name: value\n" lines. */
  headers: string = "";
  body: Uint8Array = new Uint8Array(0);

  /** No error and a 2xx status. */
  ok(): bool {
    return this.error == HttpError.None && this.status >= 200 && this.status < 300;
  }
  /** The body decoded as UTF-8. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, <usize>this.body.length);
  }
  /** The body parsed as JSON, or null. */
  json(): JSONValue | null {
    return this.error == HttpError.None ? JSON.parse(this.text()) : null;
  }
  /** A header's value (case-insensitive name, first match), or null. */
  header(name: string): string | null {
    const want = name.toLowerCase();
    const lines = this.headers.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon > 0 && lines[i].substring(0, colon).toLowerCase() == want)
        return lines[i].substring(colon + 1).trimStart();
    }
    return null;
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array | null): Uint8Array {
  const n = b == null ? 0 : b.length;
  const out = new Uint8Array(a.length + n);
  out.set(a, 0);
  if (b != null) out.set(<Uint8Array>b, a.length);
  return out;
}

/** Outbound HTTP: http.get(url), http.post(url, body, headers), ... */
export namespace http {
  /** Send a request; headers are "Name: value\n" lines. */
  export function request(method: string, url: string, headers: string = "",
                          body: Uint8Array | null = null): HttpResponse {
    let head = method + " " + url + "\n" + headers;
    if (headers.length > 0 && !headers.endsWith("\n")) head += "\n";
    head += "\n";
    const req = concatBytes(Uint8Array.wrap(String.UTF8.encode(head)), body);
    const small = new Uint8Array(4096);
    const n = wp_http_request(req.dataStart, req.length, small.dataStart, small.length);
    let len = n;
    if (n < 0) { // the message is the result: measure it
      len = 0;
      let k: i32;
      while ((k = wp_result_read(small.dataStart, small.length, len)) > 0) len += k;
    }
    const all = new Uint8Array(len);
    if (n >= 0 && len <= small.length) all.set(small.subarray(0, len), 0);
    else wp_result_read(all.dataStart, len, 0);
    const r = new HttpResponse();
    if (n < 0) {
      r.error = <HttpError>(-n);
      r.errorMessage = String.UTF8.decodeUnsafe(all.dataStart, <usize>len);
      return r;
    }
    let i = 0;
    while (i < len && all[i] >= 0x30 && all[i] <= 0x39) r.status = r.status * 10 + (all[i++] - 0x30);
    if (i < len) i++;
    const h = i;
    while (i < len && all[i] != 0x0a) { // header lines end at an empty line
      while (i < len && all[i] != 0x0a) i++;
      i++;
    }
    r.headers = String.UTF8.decodeUnsafe(all.dataStart + <usize>h, <usize>(i > h ? i - h : <i32>0));
    if (i < len) i++;
    r.body = all.slice(i);
    return r;
  }
  export function get(url: string): HttpResponse {
    return request("GET", url);
  }
  export function post(url: string, body: string, headers: string = ""): HttpResponse {
    return request("POST", url, headers, Uint8Array.wrap(String.UTF8.encode(body)));
  }
  /** POST a JSON value (Content-Type: application/json). */
  export function postJson(url: string, value: JSONValue): HttpResponse {
    return post(url, value.toString(), "Content-Type: application/json\n");
  }
}
