// tally.ts - a workflow node type (prep, exec, post) through the
// AssemblyScript PDK (tests/services/test-pdk-nodes.sh).
import { Input, Output, JSON, JSONValue, nodePost } from "@wasmplug/pdk";

// prep: {"state": {"text": T}, "config": {"min": N}} -> {"text": T, "min": N}
export function tally_prep(): i32 {
  const inp = Input.json();
  if (inp == null) return 1;
  const state = inp.get("state"), config = inp.get("config");
  let text = "";
  if (state != null) {
    const t = state.getString("text");
    if (t != null) text = t;
  }
  const out = JSON.obj();
  out.set("text", JSON.str(text));
  out.set("min", JSON.num(config == null ? 1 : config.getNumber("min", 1)));
  Output.setJSON(out);
  return 0;
}

// exec: prep's output -> {"long": words of at least min characters}
export function tally_exec(): i32 {
  const inp = Input.json();
  if (inp == null) return 1;
  const t = inp.getString("text");
  const text: string = t == null ? "" : t;
  const min = <i32>inp.getNumber("min", 1);
  let long = 0;
  const words = text.split(" ");
  for (let i = 0; i < words.length; i++) if (words[i].length >= min) long++;
  const out = JSON.obj();
  out.set("long", JSON.num(<f64>long));
  Output.setJSON(out);
  return 0;
}

// post: "many" when two or more long words, else "few"; updates {long, by}
export function tally_post(): i32 {
  const inp = Input.json();
  if (inp == null) return 1;
  const exec = inp.get("exec");
  const long = exec == null ? 0 : exec.getNumber("long", 0);
  const updates = JSON.obj();
  updates.set("long", JSON.num(long));
  updates.set("by", JSON.str("assemblyscript"));
  nodePost(long >= 2 ? "many" : "few", updates);
  return 0;
}
