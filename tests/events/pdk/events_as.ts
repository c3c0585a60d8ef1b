// events_as.ts - the AssemblyScript PDK's event API, driven by
// tests/pdk/test_pdk_events.c (same behaviour as events_c.c):
//   on_event  per event: publish pdk.echo {"lang","topic","n","hops","source"};
//             a request is answered with {"lang","n"}
//   ask       request pdk.service and output the reply
//   refused   publish on forbidden.topic (not granted): output the refusal
import { Event, Events, JSON, Output, fail } from "@wasmplug/pdk";

function echo(ev: Event): i32 {
  const n = ev.payload.getNumber("n", -1);
  const out = JSON.obj()
    .set("lang", JSON.str("as"))
    .set("topic", JSON.str(ev.topic))
    .set("n", JSON.num(n))
    .set("hops", JSON.num(<f64>ev.hops))
    .set("source", JSON.str(ev.source));
  if (Events.publish("pdk.echo", out) < 0) return fail(Events.lastError);
  Events.reply(ev, JSON.obj().set("lang", JSON.str("as")).set("n", JSON.num(n)));
  return 0;
}

export function on_event(): i32 {
  return Events.handle(echo);
}

export function ask(): i32 {
  const reply = Events.request("pdk.service", JSON.obj().set("q", JSON.num(1)), 2000);
  if (reply == null) return fail(Events.lastError);
  Output.set(reply);
  return 0;
}

export function refused(): i32 {
  if (Events.publishText("forbidden.topic", "1") < 0) Output.set("refused: " + Events.lastError);
  else Output.set("published");
  return 0;
}
