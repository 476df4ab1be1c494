//! A raw invocation payload (the scanner's events, the CloudFormation
//! hook's requests), read strictly: the Lambda runtime hands the bytes to
//! this type's `Deserialize`, which never fails, so malformed JSON,
//! an empty body, a byte-order mark or invalid UTF-8 reach the handler and
//! are answered as `InvalidEvent` (not as the runtime's own error type), and
//! a duplicated key (where the last value would silently win) is refused.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The event as JSON, or why it is not acceptable JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event(pub Result<Value, String>);

impl From<Value> for Event {
    fn from(v: Value) -> Self {
        Event(Ok(v))
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Event(StrictValue.deserialize(d).map_err(|e| {
            let text = e.to_string();
            if text.starts_with("EOF while parsing a value at line 1 column 0") {
                "the event is empty".to_owned()
            } else {
                crate::model::cut_to(&text, 200)
            }
        })))
    }
}

/// Deserializes any JSON value, refusing duplicate object keys.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {}: each key may appear once",
                    crate::model::quote(&key)
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Event {
        // As the runtime does: no check for trailing bytes.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        Event::deserialize(&mut de).expect("never fails")
    }

    #[test]
    fn bad_bytes_become_a_reason_not_an_error() {
        for (bytes, want) in [
            (&b""[..], "the event is empty"),
            (b"\xEF\xBB\xBF{}", "expected value"),
            (b"{\"a\": \"\xff\"}", "invalid unicode"),
            (b"{\"accounts\": [", "EOF while parsing"),
            (
                b"{\"dryRun\": true, \"dryRun\": false}",
                "duplicate key \"dryRun\"",
            ),
            (b"{\"a\": {\"b\": 1, \"b\": 2}}", "duplicate key \"b\""),
        ] {
            let Event(got) = read(bytes);
            let err = got.expect_err(&String::from_utf8_lossy(bytes));
            assert!(err.contains(want), "{bytes:?}: {err}");
        }
        assert_eq!(
            read(br#"{"a": [1, {"b": null}]}"#).0.unwrap(),
            serde_json::json!({"a": [1, {"b": null}]})
        );
    }
}
