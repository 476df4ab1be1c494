//! A template tree as the JSON CloudFormation sends a hook or Guard (shared
//! by the gate's specs and the runtime's hook test).

use serde_json::{json, Value};

/// The template tree as the JSON CloudFormation would send: a `Ref` to a
/// parameter resolved to its default (other intrinsics stay; the compared
/// resources have none in their tracing).
pub fn to_json(
    n: &apigw_tracing_check::check::yaml::Node,
    params: Option<&apigw_tracing_check::check::yaml::Node>,
) -> Value {
    use apigw_tracing_check::check::yaml::Value as T;
    if let Some(("Ref", name)) = n.intrinsic() {
        let default = name.as_str().and_then(|p| params?.get(p)?.get("Default"));
        if let Some(d) = default {
            return to_json(d, params);
        }
    }
    let to_json = |n| to_json(n, params);
    match &n.value {
        T::Null => Value::Null,
        T::Bool(b) => json!(b),
        T::Number(x) => json!(x),
        T::Str(s) => json!(s.as_str()),
        T::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        T::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}
