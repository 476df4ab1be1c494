//! One resource block: its instances (`count`, `for_each`) and the stage
//! each creates, judged as its plan would be.

use std::collections::BTreeMap;
use std::rc::Rc;

use hcl::{Expression, Value};

use super::super::{Fix, PlannedStage, Tracing};
use super::eval::{as_bool, as_number, as_text};
use super::load::Resource;
use super::{Bindings, Scope, MAX_RUN_INSTANCES};

/// One instance: its address suffix (`[0]`, `["key"]`, or none), its
/// `count` / `each`, and why its existence is unknown.
pub struct Instance {
    pub suffix: String,
    pub at: Bindings,
    pub unknown: Option<String>,
    /// The run's cap on instances is reached: nothing more is entered.
    pub capped: bool,
}

/// Most instances one `count` or `for_each` expands into: far above any
/// real stage count, far below what would exhaust a CI runner (`count =
/// 1e9` is a typo or an attack, and is reported as unknown instead).
const MAX_INSTANCES: u64 = 10_000;

/// Why an instance past the run's cap is unknown.
pub fn run_cap() -> String {
    format!("over the {MAX_RUN_INSTANCES} instances check expands in one run")
}

/// What a redacted value shows, as Terraform shows it.
pub const SENSITIVE: &str = "(sensitive value)";

/// The instances `count` or `for_each` make (one when neither is set),
/// each taken from `left`, the run's remaining instances.
pub fn instances(
    attrs: &BTreeMap<String, Expression>,
    scope: &Scope,
    left: &mut usize,
) -> Vec<Instance> {
    let capped_or_not = |unknown: Option<String>, capped: bool| {
        vec![Instance {
            suffix: String::new(),
            at: Bindings::default(),
            capped,
            unknown,
        }]
    };
    let one = |unknown: Option<String>| capped_or_not(unknown, false);
    // Past a cap: why, and whether it is the run's (nothing more entered).
    let take = |n: u64, left: &mut usize| -> Result<(), (String, bool)> {
        if n > MAX_INSTANCES {
            let why = format!("over the {MAX_INSTANCES} instances check expands for one block");
            return Err((why, false));
        }
        if n as usize > *left {
            *left = 0;
            return Err((run_cap(), true));
        }
        *left -= n as usize;
        Ok(())
    };
    if let Some(count) = attrs.get("count") {
        let n = match scope.eval_at(&Bindings::default(), count) {
            Err(why) => return one(Some(format!("count is not known before apply: {why}"))),
            Ok((_, true)) => {
                return one(Some(
                    "count derives from a sensitive value, which Terraform refuses".into(),
                ))
            }
            Ok((v, false)) => match whole(&v) {
                Ok(n) => n,
                Err(why) => return one(Some(why)),
            },
        };
        if let Err((why, capped)) = take(n, left) {
            return capped_or_not(Some(format!("count is {n}, {why}")), capped);
        }
        return (0..n)
            .map(|i| Instance {
                suffix: format!("[{i}]"),
                at: Bindings {
                    each: None,
                    count: Some(i),
                },
                unknown: None,
                capped: false,
            })
            .collect();
    }
    let Some(for_each) = attrs.get("for_each") else {
        return match take(1, left) {
            Ok(()) => one(None),
            Err((why, capped)) => capped_or_not(Some(format!("this block is {why}")), capped),
        };
    };
    let pairs: Vec<(String, Value)> = match scope.eval_at(&Bindings::default(), for_each) {
        Ok((_, true)) => {
            return one(Some(
                "for_each derives from a sensitive value, which Terraform refuses".into(),
            ))
        }
        Ok((Value::Object(o), _)) => o.into_iter().collect(),
        Ok((Value::Array(items), _)) => match items.iter().map(as_text).collect::<Option<Vec<_>>>()
        {
            Some(keys) => keys
                .into_iter()
                .map(|k| (k.clone(), Value::from(k)))
                .collect(),
            None => return one(Some("for_each is a set of non-strings".into())),
        },
        Ok(_) => return one(Some("for_each is not a map or a set of strings".into())),
        Err(why) => return one(Some(format!("for_each is not known before apply: {why}"))),
    };
    if let Err((why, capped)) = take(pairs.len() as u64, left) {
        let why = format!("for_each has {} keys, {why}", pairs.len());
        return capped_or_not(Some(why), capped);
    }
    pairs
        .into_iter()
        .map(|(k, v)| {
            // The plan's address quotes the key as an HCL string.
            let key = serde_json::to_string(&k).unwrap_or_default();
            Instance {
                suffix: format!("[{key}]"),
                at: Bindings {
                    each: Some((Rc::new(Value::from(k)), Rc::new(v))),
                    count: None,
                },
                unknown: None,
                capped: false,
            }
        })
        .collect()
}

/// `count` as Terraform reads it: a whole number of 0 or more, or a string
/// holding one (converted); anything else is refused by Terraform, and so
/// unknown here, naming the number.
fn whole(v: &Value) -> Result<u64, String> {
    let Some(f) = as_number(v) else {
        return Err("count is not a number".into());
    };
    if f < 0.0 || f.fract() != 0.0 || f > 1e15 {
        let shown = match v {
            Value::Number(n) => n.to_string(),
            _ => format!("{f}"),
        };
        return Err(format!(
            "count is {shown}, which Terraform refuses (a whole number of 0 or more)"
        ));
    }
    Ok(f as u64)
}

/// The stage one instance creates, if any.
pub fn stage(
    r: &Resource,
    address: String,
    scope: &Scope,
    i: &Instance,
    default_tags: Option<&Result<(Value, bool), String>>,
) -> Option<PlannedStage> {
    let get = |name: &str| r.attrs.get(name).map(|e| scope.eval_at(&i.at, e));
    let stage_name = get("stage_name");
    // A name derived from a sensitive variable is never printed.
    let stage = match &stage_name {
        Some(Ok((_, true))) => Some(SENSITIVE.to_owned()),
        Some(Ok((v, false))) => as_text(v),
        _ => None,
    };
    let mut planned = PlannedStage {
        resource: address,
        resource_type: r.kind.clone(),
        stage,
        tracing: Tracing::Off { note: None },
        tags: BTreeMap::new(),
        line: r.at.line,
        note: None,
        fix: Fix::TerraformStage,
        path: Vec::new(),
        sampling: Default::default(),
    };
    match r.kind.as_str() {
        "aws_api_gateway_deployment" => {
            // No stage_name (or null, or ""): no stage. A stage_name known
            // only after apply still makes one, and it never traces.
            match stage_name? {
                Ok((Value::Null, _)) => return None,
                Ok((v, _)) if as_text(&v).is_some_and(|s| s.is_empty()) => return None,
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
                None | Some(Ok((Value::Null, _))) => Tracing::Off { note: None },
                Some(Ok((v, _))) => match as_bool(&v) {
                    Some(true) => Tracing::On { note: None },
                    _ => Tracing::Off { note: None },
                },
                Some(Err(why)) => Tracing::Unknown(format!("{field}: {why}")),
            };
            planned.tags = tags(get("tags"), default_tags, kind);
        }
    }
    if let Some(why) = &i.unknown {
        planned.tracing = Tracing::Unknown(why.clone());
    }
    Some(planned)
}

/// The resource's tags over the aws provider's `default_tags`, as
/// `tags_all` is (a tag set on the resource wins). awscc takes a list of
/// `{key, value}` and has no default tags.
fn tags(
    own: Option<Result<(Value, bool), String>>,
    default_tags: Option<&Result<(Value, bool), String>>,
    kind: &str,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Values derived from a sensitive variable are redacted.
    let pairs = |(v, sensitive): &(Value, bool)| -> Vec<(String, String)> {
        let shown = |t: &Value| match sensitive {
            true => Some(SENSITIVE.to_owned()),
            false => as_text(t),
        };
        match v {
            Value::Object(o) => o
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), shown(v)?)))
                .collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|t| {
                    let o = t.as_object()?;
                    Some((as_text(o.get("key")?)?, shown(o.get("value")?)?))
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
