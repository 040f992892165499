//! Numbers exactly as the source wrote them. `serde_json` reads a number into a float, which
//! forgets "5.0" (it becomes 5) and would print 1e308 as 309 digits; so Carry also reads the
//! resource's text once for the digits of every number in it, by JSON Pointer.
//!
//! (`serde_json`'s `arbitrary_precision` would keep them too, but it is a feature for the whole
//! build, and it breaks every internally tagged enum that holds a number, such as a reading.)

use serde_json::Value;
use std::collections::HashMap;

/// The text of every number in a JSON document, by JSON Pointer (`/valueQuantity/value`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Numbers(HashMap<String, String>);

/// Where the reader is: in an object (at a key, once read) or an array (at an index).
enum Frame {
    Object(Option<String>),
    Array(usize),
}

impl Numbers {
    /// Reads the numbers of `text`, a JSON document. What is not valid JSON gives what could
    /// be read before it went wrong (the document itself is parsed, and refused, elsewhere).
    pub fn read(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut found = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => stack.push(Frame::Object(None)),
                b'[' => stack.push(Frame::Array(0)),
                b'}' | b']' => {
                    stack.pop();
                }
                b',' => match stack.last_mut() {
                    Some(Frame::Array(n)) => *n += 1,
                    Some(Frame::Object(key)) => *key = None,
                    None => {}
                },
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    if let Some(Frame::Object(key @ None)) = stack.last_mut() {
                        *key = Some(text.get(start..=i).and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default());
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while i + 1 < bytes.len() && matches!(bytes[i + 1], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                        i += 1;
                    }
                    found.insert(pointer(&stack), text[start..=i].to_owned());
                }
                _ => {}
            }
            i += 1;
        }
        Numbers(found)
    }

    /// The text of the number at `pointer`, given its value as parsed: as written when it was
    /// read, else as `serde_json` writes it. `None` when the value is not a number.
    pub fn text(&self, pointer: &str, value: &Value) -> Option<String> {
        let n = value.as_number()?;
        Some(self.0.get(pointer).cloned().unwrap_or_else(|| n.to_string()))
    }
}

/// The JSON Pointer of where the reader is.
fn pointer(stack: &[Frame]) -> String {
    let mut p = String::new();
    for frame in stack {
        p.push('/');
        match frame {
            Frame::Object(key) => p.push_str(&key.as_deref().unwrap_or_default().replace('~', "~0").replace('/', "~1")),
            Frame::Array(n) => p.push_str(&n.to_string()),
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_is_found_by_its_pointer_as_written() {
        let text = r#"{"a": 5.0, "s": "x,\"{[1", "q": {"value": 72.50, "list": [1, -2e+3, {"v": 1E308}]}, "t": true, "n~/": 0.10}"#;
        let n = Numbers::read(text);
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(n.text("/a", &v["a"]).as_deref(), Some("5.0"));
        assert_eq!(n.text("/q/value", &v["q"]["value"]).as_deref(), Some("72.50"));
        assert_eq!(n.text("/q/list/1", &v["q"]["list"][1]).as_deref(), Some("-2e+3"));
        assert_eq!(n.text("/q/list/2/v", &v["q"]["list"][2]["v"]).as_deref(), Some("1E308"));
        assert_eq!(n.text("/n~0~1", &v["n~/"]).as_deref(), Some("0.10"));
        assert_eq!(n.text("/s", &v["s"]), None, "not a number");
        assert_eq!(Numbers::default().text("/x", &serde_json::json!(2.5)).as_deref(), Some("2.5"));
    }

    #[test]
    fn broken_text_never_panics() {
        for text in ["", "{", "\"", "[1,", "{\"a\":\"\\", "-", "{\"a\": 1}}]]"] {
            let _ = Numbers::read(text);
        }
    }
}
