// fetch.ts - outbound HTTP through the AssemblyScript PDK (tests/http/pdk-http.sh):
// http.get + JSON, http.post with a header, http.postJson, and a refused URL.
import { Input, Output, http, JSON } from "@wasmplug/pdk";
export function fetch(): i32 {
  const base = Input.string();
  const doc = http.get(base + "/json").json();
  if (doc == null) return 1;
  const post = http.post(base + "/echo", "ping", "X-Test: yes");
  const value = JSON.obj();
  value.set("a", JSON.num(1));
  const echoed = http.postJson(base + "/echo", value).json();
  const refused = http.get(base + "/count");
  Output.set("city=" + doc.getString("city")! + " readings=" + doc.get("readings")!.length.toString() +
             " post=" + post.status.toString() + " " + post.header("X-Method")! + " " + post.text() +
             " json=" + (<i32>echoed!.getNumber("a", 0)).toString() +
             " refused=" + (<i32>refused.error).toString());
  return 0;
}
