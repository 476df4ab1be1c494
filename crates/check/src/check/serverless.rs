//! Serverless Framework (`serverless.yml`, `.yaml`, `.json`): the REST API
//! stage that `http` events create, and the `resources:` section judged as
//! the CloudFormation it is. Pure.
//!
//! What Serverless Framework v3 does (read from its source and its
//! `sls package` output): any function with an `http` event makes
//! `ApiGatewayRestApi` and a Deployment with `StageName` =
//! `provider.apiGateway.stage`, else `provider.stage`, else `dev`. The
//! generated CloudFormation never sets tracing: after deploy, Serverless
//! calls `UpdateStage` with `provider.tracing.apiGateway` (absent = off),
//! and skips that call for an external API (`provider.apiGateway.restApiId`),
//! whose stage therefore never traces. Stage tags are `provider.stackTags`
//! overlaid with `provider.tags`. `httpApi` events make HTTP APIs, which
//! have no tracing: not reported.

use std::collections::BTreeMap;

use super::yaml::Node;
use super::{template, Fix, PlannedStage, Tracing};

/// Whether `name` is a Serverless Framework service file.
pub fn is_service_file(name: &str) -> bool {
    matches!(
        name,
        "serverless.yml" | "serverless.yaml" | "serverless.json"
    )
}

/// A Serverless Framework service by its content, whatever the file's
/// name (`sls deploy --config api.yml`): a top-level `service`,
/// `provider.name: aws`, and no `Resources` or `AWSTemplateFormatVersion`
/// (a template's).
pub fn is_service(doc: &Node) -> bool {
    doc.get("service").is_some()
        && doc
            .get("provider")
            .and_then(|p| p.get("name"))
            .and_then(Node::as_str)
            == Some("aws")
        && doc.get("Resources").is_none()
        && doc.get("AWSTemplateFormatVersion").is_none()
}

/// A service written as code (`serverless.ts`, `.js`, `.mjs`, `.cjs`):
/// `check` runs no code, so it is named as not read.
pub fn is_script_service(name: &str) -> bool {
    [
        "serverless.ts",
        "serverless.js",
        "serverless.mjs",
        "serverless.cjs",
    ]
    .contains(&name)
}

pub fn stages(doc: &Node) -> Vec<PlannedStage> {
    let mut out = Vec::new();
    let provider = doc.get("provider").map(|p| follow(p, doc));
    let setting = |path: &[&str]| -> Option<&Node> {
        path.iter()
            .try_fold(*provider.as_ref()?.as_ref().ok()?, |node, key| {
                node.get(key)
            })
    };
    let http = http_function(doc);
    let line_of = |fallback: u32| {
        doc.get("provider")
            .map(|p| p.key_line.unwrap_or(p.line))
            .unwrap_or(fallback) as usize
    };
    let (function, line, unseen) = match &http {
        Http::Yes(name, line) => (Some(name.clone()), *line, None),
        Http::Unknown(why) => (None, 1, Some(why.clone())),
        Http::No => (None, 0, None),
    };
    if function.is_some() || unseen.is_some() {
        let stage = setting(&["apiGateway", "stage"])
            .or_else(|| setting(&["stage"]))
            .map(|n| resolve(n, doc))
            .unwrap_or_else(|| Ok("dev".into()));
        let external = setting(&["apiGateway", "restApiId"]).is_some();
        let tracing = match (&provider, setting(&["tracing", "apiGateway"])) {
            (Some(Err(why)), _) => Tracing::Unknown(format!("provider: {why}")),
            _ if external => Tracing::Off {
                note: Some("Serverless never updates the stage of an external API (provider.apiGateway.restApiId), and refuses provider.tracing.apiGateway with one".into()),
            },
            (_, None) => match setting(&["tracing"]).map(|t| follow(t, doc)) {
                Some(Err(why)) => Tracing::Unknown(format!("provider.tracing: {why}")),
                _ => Tracing::Off { note: None },
            },
            (_, Some(n)) => match resolve(n, doc) {
                Ok(v) if v.eq_ignore_ascii_case("true") => Tracing::On { note: None },
                Ok(_) => Tracing::Off { note: None },
                Err(why) => Tracing::Unknown(format!("provider.tracing.apiGateway: {why}")),
            },
        };
        // Whether the API exists at all is unknown: so is its stage.
        let tracing = match (&unseen, tracing) {
            (Some(why), Tracing::Off { .. }) => Tracing::Unknown(format!(
                "Serverless creates this stage if a function has an http event, and {why}"
            )),
            (_, t) => t,
        };
        let mut tags = tag_map(setting(&["stackTags"]), doc);
        tags.extend(tag_map(setting(&["tags"]), doc));
        let note = match &function {
            Some(f) => format!(
                "Serverless creates this API and stage for the http events of {f} and any other function"
            ),
            None => "Serverless creates this API and stage for any function with an http event".into(),
        };
        out.push(PlannedStage {
            resource: "ApiGatewayRestApi".into(),
            resource_type: "AWS::ApiGateway::RestApi (Serverless Framework http events)".into(),
            stage: Some(stage.unwrap_or_else(|why| format!("({why})"))),
            tracing,
            tags,
            line: Some(line_of(line)),
            note: Some(note),
            fix: if external {
                Fix::ServerlessExternalApi
            } else {
                Fix::ServerlessFramework
            },
            path: Vec::new(),
            sampling: Default::default(),
        });
    }
    // `resources` is plain CloudFormation: a map, or a list of them that
    // Serverless merges (`Service.mergeArrays`).
    if let Some(resources) = doc.get("resources") {
        match merged(resources, doc) {
            Ok(parts) => {
                for part in parts {
                    if template::is_template(part) {
                        out.extend(template::stages(part));
                    }
                }
            }
            Err(why) => out.push(PlannedStage {
                resource: "resources".into(),
                resource_type: "Serverless Framework resources (not read)".into(),
                stage: None,
                tracing: Tracing::Unknown(format!(
                    "resources: {why}; any stage it defines is not checked"
                )),
                tags: BTreeMap::new(),
                line: Some((resources.key_line.unwrap_or(resources.line)) as usize),
                note: None,
                fix: Fix::CloudFormationStage,
                path: Vec::new(),
                sampling: Default::default(),
            }),
        }
    }
    out
}

/// Whether a function has an `http` event: which (and the line), none, or
/// why it cannot be seen before Serverless runs.
enum Http {
    Yes(String, u32),
    No,
    Unknown(String),
}

fn http_function(doc: &Node) -> Http {
    let Some(functions) = doc.get("functions") else {
        return Http::No;
    };
    let functions = match merged(functions, doc) {
        Ok(parts) => parts,
        Err(why) => return Http::Unknown(format!("functions: {why}")),
    };
    let mut unseen = None;
    for (name, f) in functions.iter().flat_map(|m| m.entries()) {
        let events = match follow(f, doc).map(|f| f.get("events").map(|e| merged(e, doc))) {
            Ok(None) => continue,
            Ok(Some(Ok(events))) => events,
            Ok(Some(Err(why))) | Err(why) => {
                unseen.get_or_insert(format!("the events of {name}: {why}"));
                continue;
            }
        };
        for event in events.iter().flat_map(|e| match &e.value {
            super::yaml::Value::Seq(items) => items.iter().collect::<Vec<_>>(),
            _ => vec![*e],
        }) {
            match follow(event, doc) {
                Ok(e) if e.get("http").is_some() => return Http::Yes(name.to_string(), f.line),
                Ok(_) => {}
                Err(why) => {
                    unseen.get_or_insert(format!("an event of {name}: {why}"));
                }
            }
        }
    }
    match unseen {
        Some(why) => Http::Unknown(why),
        None => Http::No,
    }
}

/// A value that is one `${self:path}` reference: the node it names
/// (Serverless resolves such a reference to the object itself). Any other
/// variable that makes the whole value (`${file(./x.yml)}`) is known only
/// when Serverless runs.
fn follow<'a>(node: &'a Node, doc: &'a Node) -> Result<&'a Node, String> {
    let mut at = node;
    for _ in 0..MAX_REFERENCES {
        let Some(text) = at.as_str() else {
            return Ok(at);
        };
        let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return Ok(at);
        };
        let Some(path) = inner
            .trim()
            .strip_prefix("self:")
            .filter(|p| !p.contains(','))
        else {
            return Err(format!(
                "{} is known only when Serverless runs (check does not read it)",
                crate::model::quote(text)
            ));
        };
        at = path
            .split('.')
            .filter(|p| !p.is_empty())
            .try_fold(doc, |n, key| n.get(key))
            .ok_or_else(|| format!("${{self:{}}} is not set", crate::model::cut(path)))?;
    }
    Err("too many nested variables".into())
}

/// A section Serverless merges: one map, or a list of maps (each possibly
/// a reference), as `Service.mergeArrays` does.
fn merged<'a>(node: &'a Node, doc: &'a Node) -> Result<Vec<&'a Node>, String> {
    let node = follow(node, doc)?;
    match &node.value {
        super::yaml::Value::Seq(items) => items.iter().map(|i| follow(i, doc)).collect(),
        _ => Ok(vec![node]),
    }
}

fn tag_map(node: Option<&Node>, doc: &Node) -> BTreeMap<String, String> {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), resolve(v, doc).ok()?)))
            .collect()
    })
    .unwrap_or_default()
}

/// Deepest chain of `${self:...}` references followed.
const MAX_REFERENCES: usize = 10;

/// A setting's value with Serverless variables resolved where they can be
/// before deploy: `${self:a.b}`, `${sls:stage}`, and the fallback of
/// `${opt:x, 'v'}` and `${env:X, 'v'}` (what runs without the option or
/// variable set). Anything else: why not.
fn resolve(node: &Node, doc: &Node) -> Result<String, String> {
    resolve_at(node, doc, 0)
}

fn resolve_at(node: &Node, doc: &Node, depth: usize) -> Result<String, String> {
    let text = node
        .scalar_text()
        .ok_or_else(|| "is not a scalar".to_owned())?;
    if !text.contains("${") {
        return Ok(text);
    }
    if depth >= MAX_REFERENCES {
        return Err("too many nested variables".into());
    }
    let inner = text
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .filter(|i| !i.contains("${"))
        .ok_or_else(|| {
            format!(
                "{} is known only when Serverless runs",
                crate::model::quote(&text)
            )
        })?;
    reference(inner, doc, depth)
}

/// Most fallbacks one variable may list (`${self:a, self:b, 'x'}`): far
/// above real use, and an end to a chain of thousands.
const MAX_FALLBACKS: usize = 16;

/// A variable's sources, tried in order, then its quoted fallback.
fn reference(inner: &str, doc: &Node, depth: usize) -> Result<String, String> {
    let mut rest = inner;
    for _ in 0..=MAX_FALLBACKS {
        let (source, fallback) = match rest.split_once(',') {
            Some((s, f)) => (s.trim(), Some(f.trim())),
            None => (rest.trim(), None),
        };
        let why = match source_value(source, doc, depth) {
            Source::Value(v) => return v,
            Source::Missing(why) => why,
        };
        match fallback {
            Some(f) if f.starts_with('\'') || f.starts_with('"') => {
                return Ok(f.trim_matches(|c| c == '\'' || c == '"').to_owned())
            }
            Some(f) => rest = f,
            None => return Err(why),
        }
    }
    Err(format!(
        "a variable lists more than {MAX_FALLBACKS} fallbacks, more than check follows"
    ))
}

enum Source {
    /// The source is set: its value (or why it cannot be resolved).
    Value(Result<String, String>),
    /// Not set before Serverless runs: try the fallback.
    Missing(String),
}

fn source_value(source: &str, doc: &Node, depth: usize) -> Source {
    if let Some(path) = source.strip_prefix("self:") {
        let found = path
            .split('.')
            .filter(|p| !p.is_empty())
            .try_fold(doc, |n, key| n.get(key));
        return match found {
            Some(n) => Source::Value(resolve_at(n, doc, depth + 1)),
            None => Source::Missing(format!("${{self:{}}} is not set", crate::model::cut(path))),
        };
    }
    if source == "sls:stage" {
        let stage = doc.get("provider").and_then(|p| p.get("stage"));
        return Source::Value(match stage {
            Some(n) => resolve_at(n, doc, depth + 1),
            None => Ok("dev".into()),
        });
    }
    let source = crate::model::cut(source);
    if source.starts_with("opt:") || source.starts_with("env:") {
        return Source::Missing(format!(
            "${{{source}}} has no fallback and is known only when Serverless runs"
        ));
    }
    Source::Missing(format!("${{{source}}} is known only when Serverless runs"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::yaml;

    fn stage_of(text: &str) -> Vec<(Option<String>, Tracing, Fix)> {
        stages(&yaml::parse(text).unwrap())
            .into_iter()
            .map(|s| (s.stage, s.tracing, s.fix))
            .collect()
    }

    const HTTP: &str = "functions:\n  f:\n    events:\n      - http: GET /\n";

    #[test]
    fn the_stage_name_and_tracing_resolve_like_serverless() {
        let got = stage_of(&format!(
            "custom:\n  s: blue\n  t: ${{opt:trace, 'true'}}\nprovider:\n  stage: ${{self:custom.s}}\n  tracing:\n    apiGateway: ${{self:custom.t}}\n{HTTP}"
        ));
        assert_eq!(got[0].0.as_deref(), Some("blue"));
        assert_eq!(got[0].1, Tracing::On { note: None });
        // provider.apiGateway.stage wins; no provider.stage: dev.
        let got = stage_of(&format!("provider:\n  apiGateway:\n    stage: v9\n{HTTP}"));
        assert_eq!(got[0].0.as_deref(), Some("v9"));
        assert_eq!(got[0].1, Tracing::Off { note: None });
        assert_eq!(
            stage_of(&format!("provider: {{}}\n{HTTP}"))[0].0.as_deref(),
            Some("dev")
        );
    }

    #[test]
    fn what_only_serverless_knows_is_unknown() {
        let got = stage_of(&format!(
            "provider:\n  tracing:\n    apiGateway: ${{ssm:/tracing}}\n{HTTP}"
        ));
        assert!(
            matches!(&got[0].1, Tracing::Unknown(why) if why.contains("ssm:/tracing")),
            "{got:?}"
        );
        let got = stage_of(&format!(
            "provider:\n  tracing:\n    apiGateway: ${{env:TRACE}}\n{HTTP}"
        ));
        assert!(
            matches!(&got[0].1, Tracing::Unknown(why) if why.contains("no fallback")),
            "{got:?}"
        );
        // A reference loop ends.
        let got = stage_of(&format!("custom:\n  a: ${{self:custom.a}}\nprovider:\n  tracing:\n    apiGateway: ${{self:custom.a}}\n{HTTP}"));
        assert!(matches!(&got[0].1, Tracing::Unknown(_)), "{got:?}");
    }

    #[test]
    fn no_http_event_no_stage_and_an_external_api_never_traces() {
        assert!(stage_of("functions:\n  f:\n    events:\n      - httpApi: GET /\n").is_empty());
        let got = stage_of(&format!(
            "provider:\n  apiGateway:\n    restApiId: abc\n  tracing:\n    apiGateway: true\n{HTTP}"
        ));
        assert!(matches!(got[0].1, Tracing::Off { .. }));
        assert_eq!(got[0].2, Fix::ServerlessExternalApi);
    }
}
