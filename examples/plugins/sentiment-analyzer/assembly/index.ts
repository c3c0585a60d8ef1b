// sentiment-analyzer: the AssemblyScript example plugin (wasmplug
// AssemblyScript PDK, @wasmplug/pdk).
//
// Export `analyze`: input {"text": "..."}; output
//   {"sentiment":"positive","score":4,"normalized":0.7184,"words":3,
//    "positive":["amazing"],"negative":[]}
// score sums word valences from a small built-in lexicon ("not"/"never"/
// "no" flip the next scored word, "very"/"really"/"so" multiply it by 1.5);
// normalized = score / sqrt(score^2 + 15), in (-1, 1). The sentiment is
// positive when normalized >= threshold, negative when <= -threshold,
// neutral otherwise.
// Config: threshold (a number in [0, 1], default 0.3).
// Built with --runtime minimal and collect() at the end of each call.
import { Input, Output, Config, Log, fail, collect, JSON } from "@wasmplug/pdk";

const LEXICON = new Map<string, i32>();
function word(w: string, v: i32): void { LEXICON.set(w, v); }
word("amazing", 4); word("awesome", 4); word("excellent", 3); word("fantastic", 4);
word("good", 3); word("great", 3); word("happy", 3); word("love", 3); word("loved", 3);
word("like", 2); word("nice", 3); word("wonderful", 4); word("best", 3); word("fun", 4);
word("beautiful", 3); word("glad", 2); word("perfect", 3); word("fast", 2); word("easy", 1);
word("bad", -3); word("terrible", -3); word("awful", -3); word("horrible", -3); word("hate", -3);
word("worst", -3); word("sad", -2); word("angry", -3); word("poor", -2); word("slow", -2);
word("broken", -2); word("ugly", -3); word("boring", -3); word("wrong", -2); word("fail", -2);
word("failed", -2); word("crash", -2); word("bug", -2); word("annoying", -2); word("disappointing", -2);

function isNegation(w: string): bool {
  return w == "not" || w == "never" || w == "no" || w == "don't" || w == "isn't" || w == "wasn't";
}
function isIntensifier(w: string): bool {
  return w == "very" || w == "really" || w == "so" || w == "extremely";
}

function isWordChar(c: i32): bool {
  return (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x27 || c >= 0x80;
}

// Lower-cased words of the text (ASCII letters, digits, apostrophes, non-ASCII).
function words(text: string): Array<string> {
  const lower = text.toLowerCase();
  const out = new Array<string>();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : 0x20;
    if (isWordChar(c)) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push(lower.substring(start, i));
      start = -1;
    }
  }
  return out;
}

function round4(x: f64): f64 {
  return Math.round(x * 10000) / 10000;
}

export function analyze(): i32 {
  const input = Input.json();
  if (input == null) return 1; // "invalid JSON input: ..." is set
  const text = input.getString("text");
  if (text == null) return fail("input must be an object with a string field \"text\"");

  let threshold: f64 = 0.3;
  const t = Config.get("threshold");
  if (t != null) {
    threshold = Config.getNumber("threshold", 0.3);
    if (isNaN(threshold)) return fail("config threshold: not a number: " + t, 2);
    if (threshold < 0 || threshold > 1) return fail("config threshold: must be between 0 and 1", 2);
  }

  const ws = words(text);
  let score: f64 = 0;
  let negate = false;
  let boost: f64 = 1;
  const pos = JSON.arr();
  const neg = JSON.arr();
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (isNegation(w)) { negate = true; continue; }
    if (isIntensifier(w)) { boost = 1.5; continue; }
    if (LEXICON.has(w)) {
      let v = <f64>LEXICON.get(w) * boost;
      if (negate) v = -v;
      score += v;
      if (v > 0) pos.push(JSON.str(w));
      else neg.push(JSON.str(w));
    }
    negate = false;
    boost = 1;
  }
  const normalized = score / Math.sqrt(score * score + 15);
  let sentiment = "neutral";
  if (normalized >= threshold && score > 0) sentiment = "positive";
  else if (normalized <= -threshold && score < 0) sentiment = "negative";

  const out = JSON.obj();
  out.set("sentiment", JSON.str(sentiment));
  out.set("score", JSON.num(score));
  out.set("normalized", JSON.num(round4(normalized)));
  out.set("threshold", JSON.num(threshold));
  out.set("words", JSON.num(<f64>ws.length));
  out.set("positive", pos);
  out.set("negative", neg);
  Output.setJSON(out);
  Log.debug("sentiment-analyzer: " + sentiment);
  collect(); // --runtime minimal: free this call's garbage
  return 0;
}
