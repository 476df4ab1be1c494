//! One resource block: its instances (`count`, `for_each`) and the stage
//! each creates, judged as its plan would be.

use std::collections::BTreeMap;

use hcl::eval::Context;
use hcl::{Expression, Map, Value};

use super::super::{Fix, PlannedStage, Tracing};
use super::eval::{as_bool, as_text};
use super::load::Resource;
use super::Scope;

/// One instance: its address suffix (`[0]`, `["key"]`, or none), the
/// context with its `count` / `each`, and why its existence is unknown.
pub type Instance = (String, Context<'static>, Option<String>);

/// Most instances one `count` expands into: far above any real stage
/// count, far below what would exhaust a CI runner (`count = 1e9` is a
/// typo or an attack, and is reported as unknown instead).
const MAX_INSTANCES: u64 = 10_000;

/// The instances `count` or `for_each` make (one when neither is set).
pub fn instances(attrs: &BTreeMap<String, Expression>, scope: &Scope) -> Vec<Instance> {
    let one = |why: Option<String>| vec![(String::new(), scope.ctx.clone(), why)];
    if let Some(count) = attrs.get("count") {
        return match scope.eval(count) {
            Ok(Value::Number(n)) if n.as_u64().is_some_and(|n| n > MAX_INSTANCES) => one(Some(
                format!("count is {n}, over the {MAX_INSTANCES} instances check expands"),
            )),
            Ok(Value::Number(n)) => {
                let n = n.as_u64().unwrap_or(0);
                (0..n)
                    .map(|i| {
                        let mut ctx = scope.ctx.clone();
                        let c: Map<String, Value> =
                            [("index".to_owned(), Value::from(i))].into_iter().collect();
                        ctx.declare_var("count", Value::Object(c));
                        (format!("[{i}]"), ctx, None)
                    })
                    .collect()
            }
            Ok(_) => one(Some("count is not a number".into())),
            Err(why) => one(Some(format!("count is not known before apply: {why}"))),
        };
    }
    let Some(for_each) = attrs.get("for_each") else {
        return one(None);
    };
    let pairs: Vec<(String, Value)> = match scope.eval(for_each) {
        Ok(Value::Object(o)) => o.into_iter().collect(),
        Ok(Value::Array(items)) => match items.iter().map(as_text).collect::<Option<Vec<_>>>() {
            Some(keys) => keys
                .into_iter()
                .map(|k| (k.clone(), Value::from(k)))
                .collect(),
            None => return one(Some("for_each is a set of non-strings".into())),
        },
        Ok(_) => return one(Some("for_each is not a map or a set of strings".into())),
        Err(why) => return one(Some(format!("for_each is not known before apply: {why}"))),
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            let mut ctx = scope.ctx.clone();
            let each: Map<String, Value> = [
                ("key".to_owned(), Value::from(k.clone())),
                ("value".to_owned(), v),
            ]
            .into_iter()
            .collect();
            ctx.declare_var("each", Value::Object(each));
            // The plan's address quotes the key as an HCL string.
            let key = serde_json::to_string(&k).unwrap_or_default();
            (format!("[{key}]"), ctx, None)
        })
        .collect()
}

/// The stage one instance creates, if any.
pub fn stage(
    r: &Resource,
    address: String,
    scope: &Scope,
    ctx: &Context<'_>,
    unknown: Option<String>,
    default_tags: Option<&Result<Value, String>>,
) -> Option<PlannedStage> {
    let get = |name: &str| r.attrs.get(name).map(|e| scope.eval_in(ctx, e));
    let stage_name = get("stage_name");
    let stage = stage_name
        .as_ref()
        .and_then(|v| v.as_ref().ok())
        .and_then(as_text);
    let mut planned = PlannedStage {
        resource: address,
        resource_type: r.kind.clone(),
        stage: stage.clone(),
        tracing: Tracing::Off { note: None },
        tags: BTreeMap::new(),
        line: r.at.line,
        note: None,
        fix: Fix::TerraformStage,
        path: Vec::new(),
    };
    match r.kind.as_str() {
        "aws_api_gateway_deployment" => {
            // No stage_name (or null, or ""): no stage. A stage_name known
            // only after apply still makes one, and it never traces.
            match stage_name? {
                Ok(Value::Null) => return None,
                Ok(v) if as_text(&v).is_some_and(|s| s.is_empty()) => return None,
                _ => {}
            }
            planned.note = Some(
                "stage_name on a deployment creates a stage whose tracing cannot be set there"
                    .into(),
            );
            planned.fix = Fix::TerraformDeployment;
        }
        kind => {
            let (field, fix) = if kind == "aws_api_gateway_stage" {
                ("xray_tracing_enabled", Fix::TerraformStage)
            } else {
                ("tracing_enabled", Fix::TerraformAwscc)
            };
            planned.fix = fix;
            planned.tracing = match get(field) {
                None | Some(Ok(Value::Null)) => Tracing::Off { note: None },
                Some(Ok(v)) => match as_bool(&v) {
                    Some(true) => Tracing::On { note: None },
                    _ => Tracing::Off { note: None },
                },
                Some(Err(why)) => Tracing::Unknown(format!("{field}: {why}")),
            };
            planned.tags = tags(get("tags"), default_tags, kind);
        }
    }
    if let Some(why) = unknown {
        planned.tracing = Tracing::Unknown(why);
    }
    Some(planned)
}

/// The resource's tags over the aws provider's `default_tags`, as
/// `tags_all` is (a tag set on the resource wins). awscc takes a list of
/// `{key, value}` and has no default tags.
fn tags(
    own: Option<Result<Value, String>>,
    default_tags: Option<&Result<Value, String>>,
    kind: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let pairs = |v: &Value| -> Vec<(String, String)> {
        match v {
            Value::Object(o) => o
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), as_text(v)?)))
                .collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|t| {
                    let o = t.as_object()?;
                    Some((as_text(o.get("key")?)?, as_text(o.get("value")?)?))
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    if kind != "awscc_apigateway_stage" {
        if let Some(Ok(d)) = default_tags {
            out.extend(pairs(d));
        }
    }
    if let Some(Ok(v)) = own {
        out.extend(pairs(&v));
    }
    out
}
