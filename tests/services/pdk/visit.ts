// visit.ts - the host services through the AssemblyScript PDK (tests/services/test-pdk-services.sh).
import { Input, Output, KV, DB, notify, NotifyLevel } from "@wasmplug/pdk";
export function visit(): i32 {
  const name = Input.string();
  const seen = KV.getString(name);
  KV.setString(name, "yes");
  const keys = KV.list(new Uint8Array(0), null, 10);
  DB.exec("CREATE TABLE IF NOT EXISTS t(x)");
  DB.exec("INSERT INTO t VALUES(?1)", "[1]");
  const rows = DB.query("SELECT count(*) AS n FROM t");
  notify(NotifyLevel.Info, seen === null ? "first" : "again", name);
  Output.set(keys.length.toString() + " " + rows!);
  return 0;
}
