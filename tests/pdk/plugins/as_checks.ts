// as_checks.ts - AssemblyScript PDK checks beyond the examples: Config,
// Log, JSON round trips, abiVersion and the env.abort replacement
// (wasmplugAbort: the message goes to the error log, then the call traps).
import { Input, Output, Config, Log, fail, JSON, abiVersion } from "@wasmplug/pdk";

// Echo the input JSON inside {"in": ..., "greeting": config greeting or "hi"}.
export function echo(): i32 {
  const v = Input.json();
  if (v == null) return 1;
  const o = JSON.obj();
  o.set("in", v);
  o.set("greeting", JSON.str(Config.getOr("greeting", "hi")));
  o.set("abi", JSON.num(<f64>abiVersion()));
  Log.warn("echo called");
  Output.setJSON(o);
  return 0;
}

// Input.string() and Output.set: reverse the text (UTF-16 units).
export function reverse(): i32 {
  const s = Input.string();
  let r = "";
  for (let i = s.length - 1; i >= 0; i--) r += s.charAt(i);
  Output.set(r);
  return 0;
}

// A failure with a custom code.
export function failing(): i32 {
  return fail("custom failure", 7);
}

// assert() -> abort -> wasmplugAbort.
export function boom(): i32 {
  assert(Input.length() < 0, "kaboom");
  return 0;
}
