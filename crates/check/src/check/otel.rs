//! OpenTelemetry on the functions of a trace path, from what templates and
//! Terraform write: `Layers` and `Environment.Variables` (SAM with its
//! Globals), `layers` and `environment { variables }`. Only the two
//! variables the notes need are read.

use apigw_tracing_rule::trace_path::{Otel, EXEC_WRAPPER, PROPAGATORS};

use super::yaml::Node;

/// A layer ARN as written: a literal, or the text of a `!Sub`.
fn layer_text(n: &Node) -> Option<String> {
    n.scalar_text().or_else(|| match n.intrinsic() {
        Some(("Fn::Sub", inner)) => inner
            .scalar_text()
            .or_else(|| inner.items().first().and_then(Node::scalar_text)),
        _ => None,
    })
}

/// A CloudFormation or SAM function's OpenTelemetry, its `Globals.Function`
/// (SAM: layers added, variables overlaid by the function's) first.
pub fn from_cfn(props: Option<&Node>, globals: Option<&Node>) -> Otel {
    let mut layers = Vec::new();
    let mut wrapper = None;
    let mut propagators = None;
    for source in [globals, props].into_iter().flatten() {
        layers.extend(
            source
                .get("Layers")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(layer_text),
        );
        let vars = source.get("Environment").and_then(|e| e.get("Variables"));
        if let Some(v) = vars.and_then(|v| v.get(EXEC_WRAPPER)) {
            wrapper = v.scalar_text();
        }
        if let Some(v) = vars.and_then(|v| v.get(PROPAGATORS)) {
            propagators = v.scalar_text();
        }
    }
    Otel::from_parts(
        layers.iter().map(String::as_str),
        wrapper.as_deref(),
        propagators.as_deref(),
    )
}

/// A Terraform function's OpenTelemetry from its `layers` and its
/// `environment { variables }` values (JSON, as a plan or the evaluator
/// gives them).
pub fn from_terraform(layers: &serde_json::Value, variables: &serde_json::Value) -> Otel {
    let layers: Vec<&str> = layers
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let var = |k: &str| variables.get(k).and_then(serde_json::Value::as_str);
    Otel::from_parts(layers, var(EXEC_WRAPPER), var(PROPAGATORS))
}

#[cfg(test)]
#[path = "otel_tests.rs"]
mod tests;
