//! serde-plugin: checks the Rust PDK's optional serde_json support (feature
//! "serde", Debian's librust-serde-json-dev, cargo offline). Export `stats`:
//! input {"values":[numbers]} -> {"count":N,"sum":S,"max":M}. Export
//! `panics`: a panic becomes the call's error message and log line, then
//! the call traps.
use wasmplug_pdk::serde_json::{json, Value};
use wasmplug_pdk::{plugin_fn, Error, Json};

plugin_fn! {
    fn stats(input: Json<Value>) -> Result<Json<Value>, Error> {
        let values = input.0["values"].as_array().ok_or("\"values\" must be an array")?.clone();
        let nums: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
        let sum: f64 = nums.iter().sum();
        let max = nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        Ok(Json(json!({"count": nums.len(), "sum": sum, "max": if nums.is_empty() { Value::Null } else { json!(max) }})))
    }
}

plugin_fn! {
    fn panics() -> Result<(), Error> {
        let v: Vec<u32> = Vec::new();
        panic!("index {} of {}", 3, v.len())
    }
}
