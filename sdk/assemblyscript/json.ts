// json.ts - a small JSON value type for wasmplug AssemblyScript plugins:
// parse (JSON.parse, returning null and setting JSON.lastError on bad
// input), build (JSON.obj(), JSON.arr(), JSON.str(), ...), inspect and
// serialize (toString). Object members keep their insertion order.

export enum JSONKind { Null, Bool, Number, String, Array, Object }

export class JSONValue {
  kind: JSONKind = JSONKind.Null;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: Array<JSONValue> = new Array<JSONValue>(); // array items, object values
  keys: Array<string> = new Array<string>();        // object keys

  get isNull(): bool { return this.kind == JSONKind.Null; }
  get isBool(): bool { return this.kind == JSONKind.Bool; }
  get isNumber(): bool { return this.kind == JSONKind.Number; }
  get isString(): bool { return this.kind == JSONKind.String; }
  get isArray(): bool { return this.kind == JSONKind.Array; }
  get isObject(): bool { return this.kind == JSONKind.Object; }
  /** Items of an array or members of an object. */
  get length(): i32 { return this.items.length; }

  /** Object member, or null. */
  get(key: string): JSONValue | null {
    if (this.kind != JSONKind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }
  /** Array item, or null. */
  at(i: i32): JSONValue | null {
    if (this.kind != JSONKind.Array || i < 0 || i >= this.items.length) return null;
    return this.items[i];
  }
  /** A member's string, or null when missing or not a string. */
  getString(key: string): string | null {
    const v = this.get(key);
    if (v == null || !v.isString) return null;
    return v.str;
  }
  /** A member's number, or dflt when missing or not a number. */
  getNumber(key: string, dflt: f64): f64 {
    const v = this.get(key);
    if (v == null || !v.isNumber) return dflt;
    return v.num;
  }
  /** Set an object member (replacing one with the same key). */
  set(key: string, v: JSONValue): JSONValue {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) {
        this.items[i] = v;
        return this;
      }
    }
    this.keys.push(key);
    this.items.push(v);
    return this;
  }
  /** Append to an array. */
  push(v: JSONValue): JSONValue {
    this.items.push(v);
    return this;
  }

  /** Compact JSON text. */
  toString(): string {
    const parts = new Array<string>();
    writeValue(this, parts);
    return parts.join("");
  }
}

function quote(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc = "";
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5C) esc = "\\\\";
    else if (c == 0x0A) esc = "\\n";
    else if (c == 0x0D) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) {
      const h = c.toString(16);
      esc = "\\u" + "0000".substring(0, 4 - h.length) + h;
    }
    if (esc.length > 0) {
      out += s.substring(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.substring(start) + "\"";
}

function numberText(n: f64): string {
  if (!isFinite(n)) return "null";
  if (n == Math.floor(n) && Math.abs(n) < 9e15) return (<i64>n).toString();
  return n.toString();
}

function writeValue(v: JSONValue, out: Array<string>): void {
  switch (v.kind) {
    case JSONKind.Null: out.push("null"); break;
    case JSONKind.Bool: out.push(v.bool ? "true" : "false"); break;
    case JSONKind.Number: out.push(numberText(v.num)); break;
    case JSONKind.String: out.push(quote(v.str)); break;
    case JSONKind.Array: {
      out.push("[");
      for (let i = 0; i < v.items.length; i++) {
        if (i > 0) out.push(",");
        writeValue(v.items[i], out);
      }
      out.push("]");
      break;
    }
    default: {
      out.push("{");
      for (let i = 0; i < v.items.length; i++) {
        if (i > 0) out.push(",");
        out.push(quote(v.keys[i]));
        out.push(":");
        writeValue(v.items[i], out);
      }
      out.push("}");
    }
  }
}

class Parser {
  s: string;
  pos: i32 = 0;
  err: string = "";
  depth: i32 = 0;
  constructor(s: string) { this.s = s; }

  fail(why: string): JSONValue | null {
    if (this.err.length == 0) this.err = why + " at " + this.pos.toString();
    return null;
  }
  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) break;
      this.pos++;
    }
  }
  value(): JSONValue | null {
    this.ws();
    if (this.pos >= this.s.length) return this.fail("unexpected end of input");
    if (++this.depth > 200) return this.fail("nesting too deep");
    const c = this.s.charCodeAt(this.pos);
    let v: JSONValue | null = null;
    if (c == 0x7B || c == 0x5B) v = this.container(c == 0x7B);
    else if (c == 0x22) {
      const s = this.string();
      if (s != null) v = JSON.str(s);
    } else if (c == 0x2D || (c >= 0x30 && c <= 0x39)) v = this.number();
    else if (this.s.startsWith("true", this.pos)) { this.pos += 4; v = JSON.bool(true); }
    else if (this.s.startsWith("false", this.pos)) { this.pos += 5; v = JSON.bool(false); }
    else if (this.s.startsWith("null", this.pos)) { this.pos += 4; v = JSON.null(); }
    else return this.fail("unexpected character");
    this.depth--;
    return v;
  }
  container(isObj: bool): JSONValue | null {
    const v = isObj ? JSON.obj() : JSON.arr();
    const close: i32 = isObj ? 0x7D : 0x5D;
    this.pos++;
    this.ws();
    if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == close) {
      this.pos++;
      return v;
    }
    while (true) {
      let key = "";
      if (isObj) {
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x22)
          return this.fail("expected a string key");
        const k = this.string();
        if (k == null) return null;
        key = k;
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x3A)
          return this.fail("expected ':'");
        this.pos++;
      }
      const item = this.value();
      if (item == null) return null;
      if (isObj) v.set(key, item);
      else v.push(item);
      this.ws();
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == 0x2C) {
        this.pos++;
        continue;
      }
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == close) {
        this.pos++;
        return v;
      }
      return this.fail(isObj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    return null;
  }
  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c == 0x22) {
        out += this.s.substring(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c != 0x5C) {
        this.pos++;
        continue;
      }
      out += this.s.substring(start, this.pos);
      this.pos++;
      if (this.pos >= this.s.length) break;
      const e = this.s.charCodeAt(this.pos++);
      if (e == 0x22) out += "\"";
      else if (e == 0x5C) out += "\\";
      else if (e == 0x2F) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6E) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        if (this.pos + 4 > this.s.length) { this.fail("bad \\u escape"); return null; }
        const hex = this.s.substring(this.pos, this.pos + 4);
        let cp = 0;
        for (let i = 0; i < 4; i++) {
          const h = hex.charCodeAt(i);
          let d = -1;
          if (h >= 0x30 && h <= 0x39) d = h - 0x30;
          else if (h >= 0x61 && h <= 0x66) d = h - 0x61 + 10;
          else if (h >= 0x41 && h <= 0x46) d = h - 0x41 + 10;
          if (d < 0) { this.fail("bad \\u escape"); return null; }
          cp = cp * 16 + d;
        }
        this.pos += 4;
        out += String.fromCharCode(cp); // UTF-16 units: surrogate pairs join by themselves
      } else {
        this.fail("bad escape in string");
        return null;
      }
      start = this.pos;
    }
    this.fail("unterminated string");
    return null;
  }
  number(): JSONValue | null {
    const start = this.pos;
    if (this.s.charCodeAt(this.pos) == 0x2D) this.pos++;
    const digits0 = this.pos;
    while (this.pos < this.s.length && isDigit(this.s.charCodeAt(this.pos))) this.pos++;
    if (this.pos == digits0) return this.fail("bad number");
    if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == 0x2E) {
      this.pos++;
      const d = this.pos;
      while (this.pos < this.s.length && isDigit(this.s.charCodeAt(this.pos))) this.pos++;
      if (this.pos == d) return this.fail("bad number");
    }
    if (this.pos < this.s.length && (this.s.charCodeAt(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.s.length) {
        const sign = this.s.charCodeAt(this.pos);
        if (sign == 0x2B || sign == 0x2D) this.pos++;
      }
      const d = this.pos;
      while (this.pos < this.s.length && isDigit(this.s.charCodeAt(this.pos))) this.pos++;
      if (this.pos == d) return this.fail("bad number");
    }
    return JSON.num(parseFloat(this.s.substring(start, this.pos)));
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** Constructors, parse and the last parse error. */
export class JSON {
  /** Why the last JSON.parse failed ("expected ':' at 7"). */
  static lastError: string = "";

  /** Parse JSON text; null (and JSON.lastError set) when invalid. */
  static parse(s: string): JSONValue | null {
    const p = new Parser(s);
    const v = p.value();
    if (v != null) {
      p.ws();
      if (p.pos != s.length) {
        p.fail("trailing characters");
        JSON.lastError = p.err;
        return null;
      }
      return v;
    }
    JSON.lastError = p.err;
    return null;
  }
  static null(): JSONValue { return new JSONValue(); }
  static bool(b: bool): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Bool;
    v.bool = b;
    return v;
  }
  static num(n: f64): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Number;
    v.num = n;
    return v;
  }
  static str(s: string): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.String;
    v.str = s;
    return v;
  }
  static arr(): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Array;
    return v;
  }
  static obj(): JSONValue {
    const v = new JSONValue();
    v.kind = JSONKind.Object;
    return v;
  }
}
