// visit.rs - the host services through the Rust PDK (tests/services/test-pdk-services.sh).
use wasmplug_pdk::services::{db, kv, notify, Level};
#[no_mangle]
pub extern "C" fn visit() -> i32 {
    let name = wasmplug_pdk::input::string().unwrap_or_default();
    let seen = kv::get_string(&name);
    kv::set(name.as_bytes(), b"yes");
    let keys = kv::list(b"", None, 10);
    db::exec("CREATE TABLE IF NOT EXISTS t(x)", None).unwrap();
    db::exec("INSERT INTO t VALUES(?1)", Some("[1]")).unwrap();
    let rows = db::query("SELECT count(*) AS n FROM t", None).unwrap();
    let bad = db::exec("SELEC", None).unwrap_err();
    notify(Level::Info, if seen.is_some() { "again" } else { "first" }, &name);
    wasmplug_pdk::output::set_string(&format!("{} {} {}", keys.len(), rows, bad));
    0
}
