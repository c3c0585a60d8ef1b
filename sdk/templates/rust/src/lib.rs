//! A wasmplug plugin in Rust (template). Export `greet`:
//! input {"name": "Ada"} -> {"message": "Hello, Ada!"}; config "greeting".
//! Build: ./build.sh (or cargo, see Cargo.toml).
use wasmplug_pdk::json::Value;
use wasmplug_pdk::{config, log, plugin_fn, Error};

plugin_fn! {
    fn greet(input: Value) -> Result<Value, Error> {
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new("input needs a string \"name\""))?;
        let greeting = config::get_or("greeting", "Hello");
        let mut out = Value::object();
        out.set("message", Value::from(format!("{}, {}!", greeting, name)));
        log::info("greeted");
        Ok(out)
    }
}
