//! json-transformer: the Rust example plugin (wasmplug Rust PDK).
//!
//! Applies a list of operations to a JSON document. When the document is an
//! array, pick / rename / map apply to each item and filter keeps the items
//! that match; when it is an object, they apply to the object itself.
//!
//! Operations (JSON objects):
//!   {"op":"pick","fields":["id","user.name"]}      keep these (dotted paths)
//!   {"op":"rename","from":"name","to":"title"}     or {"op":"rename","fields":{"a":"b"}}
//!   {"op":"filter","field":"age","cmp":"gte","value":18}
//!        cmp: eq ne gt gte lt lte contains exists (default eq)
//!   {"op":"map","field":"name","fn":"upper"}
//!        fn: upper lower trim length string number round negate
//!
//! Exports:
//!   transform  input: the document; operations: config "operations" (a JSON array)
//!   apply      input: {"document": ..., "operations": [...]}

use wasmplug_pdk::json::Value;
use wasmplug_pdk::{config, log, plugin_fn, Error};

plugin_fn! {
    fn transform(doc: Value) -> Result<Value, Error> {
        let text = config::require("operations")?;
        let ops = Value::parse(&text)
            .map_err(|e| Error::with_code(2, format!("config operations: invalid JSON: {}", e)))?;
        run(doc, &ops)
    }
}

plugin_fn! {
    fn apply(input: Value) -> Result<Value, Error> {
        let doc = input.get("document").cloned()
            .ok_or_else(|| Error::with_code(2, "input must have a \"document\""))?;
        let ops = input.get("operations").cloned().unwrap_or_else(Value::array);
        run(doc, &ops)
    }
}

fn run(mut doc: Value, ops: &Value) -> Result<Value, Error> {
    let ops = ops
        .as_array()
        .ok_or_else(|| Error::with_code(2, "operations must be an array"))?;
    for (i, op) in ops.iter().enumerate() {
        doc = apply_op(doc, op).map_err(|e| Error::with_code(2, format!("operation {}: {}", i, e)))?;
    }
    log::debug(&format!("json-transformer: applied {} operations", ops.len()));
    Ok(doc)
}

fn apply_op(doc: Value, op: &Value) -> Result<Value, String> {
    let name = op.get("op").and_then(Value::as_str).ok_or("missing \"op\"")?;
    match name {
        "filter" => filter(doc, op),
        "pick" | "rename" | "map" => match doc {
            Value::Array(items) => items
                .into_iter()
                .map(|item| each(name, item, op))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => each(name, other, op),
        },
        other => Err(format!("unknown op '{}'", other)),
    }
}

fn each(name: &str, item: Value, op: &Value) -> Result<Value, String> {
    match name {
        "pick" => pick(item, op),
        "rename" => rename(item, op),
        _ => map(item, op),
    }
}

fn string_list(op: &Value, key: &str) -> Result<Vec<String>, String> {
    op.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("\"{}\" must be an array of strings", key))?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("\"{}\" must be an array of strings", key)))
        .collect()
}

/// Copy the value at a dotted path from src into dst, creating objects.
fn put_path(dst: &mut Value, path: &[&str], v: Value) {
    if path.len() == 1 {
        dst.set(path[0], v);
        return;
    }
    if dst.get(path[0]).map_or(true, |x| x.as_object().is_none()) {
        dst.set(path[0], Value::object());
    }
    if let Some(child) = dst.get_mut(path[0]) {
        put_path(child, &path[1..], v);
    }
}

fn pick(item: Value, op: &Value) -> Result<Value, String> {
    let fields = string_list(op, "fields")?;
    if item.as_object().is_none() {
        return Ok(item);
    }
    let mut out = Value::object();
    for f in &fields {
        if let Some(v) = item.pointer(f) {
            let parts: Vec<&str> = f.split('.').collect();
            put_path(&mut out, &parts, v.clone());
        }
    }
    Ok(out)
}

fn rename(mut item: Value, op: &Value) -> Result<Value, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(map) = op.get("fields").and_then(Value::as_object) {
        for (from, to) in map {
            let to = to.as_str().ok_or("rename \"fields\" values must be strings")?;
            pairs.push((from.clone(), to.to_string()));
        }
    } else {
        let from = op.get("from").and_then(Value::as_str).ok_or("rename needs \"from\" and \"to\"")?;
        let to = op.get("to").and_then(Value::as_str).ok_or("rename needs \"from\" and \"to\"")?;
        pairs.push((from.to_string(), to.to_string()));
    }
    if let Value::Object(members) = &mut item {
        for (from, to) in &pairs {
            // Rename in place so the member keeps its position.
            if let Some(slot) = members.iter_mut().find(|(k, _)| k == from) {
                slot.0 = to.clone();
            }
        }
    }
    Ok(item)
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn filter(doc: Value, op: &Value) -> Result<Value, String> {
    let field = op.get("field").and_then(Value::as_str).ok_or("filter needs \"field\"")?;
    let cmp = op.get("cmp").and_then(Value::as_str).unwrap_or("eq");
    let want = op.get("value").cloned().unwrap_or(Value::Null);
    let items = match doc {
        Value::Array(items) => items,
        other => return Err(format!("filter needs an array document, got {}", other.type_name())),
    };
    let mut out = Vec::new();
    for item in items {
        let got = item.pointer(field);
        let keep = match (cmp, got) {
            ("exists", g) => g.is_some() == want.truthy() || (want.is_null() && g.is_some()),
            (_, None) => false,
            ("eq", Some(g)) => *g == want,
            ("ne", Some(g)) => *g != want,
            ("gt", Some(g)) => compare(g, &want) == Some(std::cmp::Ordering::Greater),
            ("gte", Some(g)) => matches!(compare(g, &want), Some(o) if o != std::cmp::Ordering::Less),
            ("lt", Some(g)) => compare(g, &want) == Some(std::cmp::Ordering::Less),
            ("lte", Some(g)) => matches!(compare(g, &want), Some(o) if o != std::cmp::Ordering::Greater),
            ("contains", Some(g)) => match (g, &want) {
                (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
                (Value::Array(a), w) => a.contains(w),
                _ => false,
            },
            (other, _) => return Err(format!("unknown cmp '{}'", other)),
        };
        if keep {
            out.push(item);
        }
    }
    Ok(Value::Array(out))
}

fn map(mut item: Value, op: &Value) -> Result<Value, String> {
    let field = op.get("field").and_then(Value::as_str).ok_or("map needs \"field\"")?;
    let func = op.get("fn").and_then(Value::as_str).ok_or("map needs \"fn\"")?;
    let cur = match item.get(field) {
        Some(v) => v.clone(),
        None => return Ok(item), // nothing to map
    };
    let new = match (func, &cur) {
        ("upper", Value::String(s)) => Value::String(s.to_uppercase()),
        ("lower", Value::String(s)) => Value::String(s.to_lowercase()),
        ("trim", Value::String(s)) => Value::String(s.trim().to_string()),
        ("length", Value::String(s)) => Value::Number(s.chars().count() as f64),
        ("length", Value::Array(a)) => Value::Number(a.len() as f64),
        ("string", Value::String(_)) => cur.clone(),
        ("string", v) => Value::String(v.to_string()),
        ("number", Value::Number(_)) => cur.clone(),
        ("number", Value::String(s)) => Value::Number(
            s.trim().parse::<f64>().map_err(|_| format!("cannot convert '{}' to a number", s))?,
        ),
        ("round", Value::Number(n)) => Value::Number(n.round()),
        ("negate", Value::Number(n)) => Value::Number(-n),
        ("negate", Value::Bool(b)) => Value::Bool(!b),
        (f @ ("upper" | "lower" | "trim" | "length" | "number" | "round" | "negate"), v) => {
            return Err(format!("map {} does not apply to {} field \"{}\"", f, v.type_name(), field))
        }
        (other, _) => return Err(format!("unknown fn '{}'", other)),
    };
    item.set(field, new);
    Ok(item)
}
