//! block-renderer: a command plugin (docs/ABI.md "Command plugins") in the
//! shape editor plugin systems use: `initialize` with the host's API,
//! `handle_command` dispatching on the command's action, `shutdown`.
use wasmplug_pdk::command::*;
use wasmplug_pdk::json::Value;
use wasmplug_pdk::plugin_main;

#[derive(Default)]
pub struct BlockRenderer {
    host_api: HostApi,
    initialized: bool,
    handled: u32,
    fail_shutdown: bool,
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

impl BlockRenderer {
    fn render_custom_block(&self, payload: Value) -> Result<CommandResponse, PluginError> {
        let title = payload
            .get("title")
            .and_then(Value::as_str)
            .ok_or_else(|| PluginError::Failed("render_block needs a \"title\" string".into()))?;
        let body = payload.get("body").and_then(Value::as_str).unwrap_or("");
        let class = self.host_api.config_str("class").unwrap_or("block");
        let html = format!(
            "<div class=\"{}\"><h2>{}</h2><p>{}</p></div>",
            escape_html(class),
            escape_html(title),
            escape_html(body)
        );
        let mut out = Value::object();
        out.set("html", Value::from(html));
        Ok(CommandResponse::new(out))
    }

    fn process_data(&self, payload: Value) -> Result<CommandResponse, PluginError> {
        let numbers = payload
            .get("numbers")
            .and_then(Value::as_array)
            .ok_or_else(|| PluginError::Failed("process_data needs a \"numbers\" array".into()))?;
        let mut sum = 0.0;
        for n in numbers {
            sum += n.as_f64().ok_or_else(|| PluginError::Failed("numbers only, please".into()))?;
        }
        let mut out = Value::object();
        out.set("count", Value::from(numbers.len() as i64));
        out.set("sum", Value::from(sum));
        Ok(CommandResponse::new(out))
    }

    fn status(&self) -> CommandResponse {
        let mut out = Value::object();
        out.set("initialized", Value::from(self.initialized));
        out.set("handled", Value::from(self.handled as i64));
        CommandResponse::new(out)
    }
}

impl Plugin for BlockRenderer {
    fn initialize(&mut self, host_api: HostApi) -> Result<(), PluginError> {
        if host_api.config_str("refuse").is_some() {
            return Err(PluginError::Failed("initialize refused: config 'refuse' is set".into()));
        }
        self.host_api = host_api;
        self.initialized = true;
        Ok(())
    }

    fn handle_command(&mut self, command: Command) -> Result<CommandResponse, PluginError> {
        self.handled += 1;
        match command.action.as_str() {
            "render_block" => self.render_custom_block(command.payload),
            "process_data" => self.process_data(command.payload),
            "status" => Ok(self.status()),
            "fail_shutdown" => {
                self.fail_shutdown = true;
                Ok(CommandResponse::empty())
            }
            _ => Err(PluginError::UnknownCommand(command.action)),
        }
    }

    fn shutdown(&mut self) -> Result<(), PluginError> {
        self.host_api.log(&format!("shutdown after {} commands", self.handled));
        if self.fail_shutdown {
            return Err(PluginError::Failed("shutdown failed as asked".into()));
        }
        Ok(())
    }
}

plugin_main!(BlockRenderer);
