//! events_rust.rs - the Rust PDK's event API, driven by
//! tests/pdk/test_pdk_events.c (same behaviour as events_c.c):
//!   on_event  per event: publish pdk.echo {"lang","topic","n","hops","source"};
//!             a request is answered with {"lang","n"}
//!   ask       request pdk.service and output the reply
//!   refused   publish on forbidden.topic (not granted): output the refusal
use wasmplug_pdk::json::Value;
use wasmplug_pdk::{event_handler, events, plugin_fn, Error};

fn n_of(ev: &events::Event) -> f64 {
    ev.payload.get("n").and_then(|v| v.as_f64()).unwrap_or(-1.0)
}

event_handler! {
    fn echo(ev: events::Event) -> Result<(), Error> {
        let mut out = Value::object();
        out.set("lang", Value::String("rust".into()));
        out.set("topic", Value::String(ev.topic.clone()));
        out.set("n", Value::Number(n_of(&ev)));
        out.set("hops", Value::Number(ev.hops as f64));
        out.set("source", Value::String(ev.source.clone()));
        events::publish("pdk.echo", &out)?;
        let mut reply = Value::object();
        reply.set("lang", Value::String("rust".into()));
        reply.set("n", Value::Number(n_of(&ev)));
        events::reply(&ev, &reply);
        Ok(())
    }
}

plugin_fn! {
    fn ask() -> Result<String, Error> {
        let mut q = Value::object();
        q.set("q", Value::Number(1.0));
        events::request("pdk.service", &q, 2000)
    }
}

plugin_fn! {
    fn refused() -> Result<String, Error> {
        Ok(match events::publish_raw("forbidden.topic", b"1") {
            Ok(()) => "published".to_string(),
            Err(e) => format!("refused: {}", e.message),
        })
    }
}
