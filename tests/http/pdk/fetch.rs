// fetch.rs - outbound HTTP through the Rust PDK (tests/http/pdk-http.sh):
// http::get + JSON, http::post with a header, http::post_json, and a refused URL.
use wasmplug_pdk::{http, json};
#[no_mangle]
pub extern "C" fn fetch() -> i32 {
    let base = wasmplug_pdk::input::string().unwrap_or_default();
    let doc = http::get(&format!("{}/json", base)).unwrap().json().unwrap();
    let post = http::post(&format!("{}/echo", base), b"ping", &[("X-Test", "yes")]).unwrap();
    let mut value = json::Value::object();
    value.set("a", json::Value::Number(1.0));
    let echoed = http::post_json(&format!("{}/echo", base), &value).unwrap().json().unwrap();
    let refused = http::get(&format!("{}/count", base)).unwrap_err();
    wasmplug_pdk::output::set_string(&format!(
        "city={} readings={} post={} {} {} json={} refused={}",
        doc.get("city").and_then(|c| c.as_str()).unwrap_or("?"),
        doc.get("readings").and_then(|r| r.as_array()).map_or(0, |r| r.len()),
        post.status,
        post.header("X-Method").unwrap_or("?"),
        post.text(),
        echoed.get("a").and_then(|a| a.as_f64()).unwrap_or(0.0),
        refused.kind as i32
    ));
    0
}
