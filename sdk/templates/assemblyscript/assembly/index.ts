// A wasmplug plugin in AssemblyScript (template). Export `greet`:
// input {"name": "Ada"} -> {"message": "Hello, Ada!"}; config "greeting".
// Build: ./build.sh
import { Input, Output, Config, Log, fail, JSON } from "@wasmplug/pdk";

export function greet(): i32 {
  const input = Input.json();
  if (input == null) return 1; // "invalid JSON input: ..." is set
  const name = input.getString("name");
  if (name == null) return fail("input needs a string \"name\"");
  const out = JSON.obj();
  out.set("message", JSON.str(Config.getOr("greeting", "Hello") + ", " + name + "!"));
  Log.info("greeted");
  Output.setJSON(out);
  return 0;
}
