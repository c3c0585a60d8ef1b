// tally.rs - a workflow node type (prep, exec, post) through the Rust PDK
// (tests/services/test-pdk-nodes.sh).
use wasmplug_pdk::json::Value;
use wasmplug_pdk::{input, output};

fn num(v: Option<&Value>, key: &str, dflt: f64) -> f64 {
    v.and_then(|v| v.get(key)).and_then(|x| x.as_f64()).unwrap_or(dflt)
}

/// prep: {"state": {"text": T}, "config": {"min": N}} -> {"text": T, "min": N}
#[no_mangle]
pub extern "C" fn tally_prep() -> i32 {
    let inp = match input::json() {
        Ok(v) => v,
        Err(_) => return 1,
    };
    let text = inp.get("state").and_then(|s| s.get("text")).and_then(|t| t.as_str()).unwrap_or("");
    let mut out = Value::object();
    out.set("text", Value::from(text));
    out.set("min", Value::from(num(inp.get("config"), "min", 1.0)));
    output::set_json(&out);
    0
}

/// exec: prep's output -> {"long": words of at least min characters}
#[no_mangle]
pub extern "C" fn tally_exec() -> i32 {
    let inp = match input::json() {
        Ok(v) => v,
        Err(_) => return 1,
    };
    let min = num(Some(&inp), "min", 1.0) as usize;
    let text = inp.get("text").and_then(|t| t.as_str()).unwrap_or("");
    let long = text.split(' ').filter(|w| w.chars().count() >= min).count();
    let mut out = Value::object();
    out.set("long", Value::from(long as f64));
    output::set_json(&out);
    0
}

/// post: "many" when two or more long words, else "few"; updates {long, by}
#[no_mangle]
pub extern "C" fn tally_post() -> i32 {
    let inp = match input::json() {
        Ok(v) => v,
        Err(_) => return 1,
    };
    let long = num(inp.get("exec"), "long", 0.0);
    let mut updates = Value::object();
    updates.set("long", Value::from(long));
    updates.set("by", Value::from("rust"));
    output::node_post(if long >= 2.0 { "many" } else { "few" }, Some(&updates));
    0
}
