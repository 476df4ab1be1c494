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

pub fn stages(doc: &Node) -> Vec<PlannedStage> {
    let mut out = Vec::new();
    let provider = doc.get("provider");
    let setting = |path: &[&str]| path.iter().try_fold(provider?, |node, key| node.get(key));
    let http = doc
        .get("functions")
        .map(|f| f.entries())
        .unwrap_or_default()
        .iter()
        .find(|(_, f)| {
            f.get("events")
                .is_some_and(|e| e.items().iter().any(|ev| ev.get("http").is_some()))
        });
    if let Some((function, f)) = http {
        let stage = setting(&["apiGateway", "stage"])
            .or_else(|| setting(&["stage"]))
            .map(|n| resolve(n, doc))
            .unwrap_or_else(|| Ok("dev".into()));
        let external = setting(&["apiGateway", "restApiId"]).is_some();
        let tracing = match setting(&["tracing", "apiGateway"]) {
            _ if external => Tracing::Off {
                note: Some("Serverless never updates the stage of an external API (provider.apiGateway.restApiId), and refuses provider.tracing.apiGateway with one".into()),
            },
            None => Tracing::Off { note: None },
            Some(n) => match resolve(n, doc) {
                Ok(v) if v.eq_ignore_ascii_case("true") => Tracing::On { note: None },
                Ok(_) => Tracing::Off { note: None },
                Err(why) => Tracing::Unknown(format!("provider.tracing.apiGateway: {why}")),
            },
        };
        let mut tags = tag_map(setting(&["stackTags"]), doc);
        tags.extend(tag_map(setting(&["tags"]), doc));
        let line = provider
            .map(|p| p.key_line.unwrap_or(p.line))
            .unwrap_or(f.line) as usize;
        out.push(PlannedStage {
            resource: "ApiGatewayRestApi".into(),
            resource_type: "AWS::ApiGateway::RestApi (Serverless Framework http events)".into(),
            stage: Some(stage.unwrap_or_else(|why| format!("({why})"))),
            tracing,
            tags,
            line: Some(line),
            note: Some(format!(
                "Serverless creates this API and stage for the http events of {function} and any other function"
            )),
            fix: if external {
                Fix::ServerlessExternalApi
            } else {
                Fix::ServerlessFramework
            },
            path: Vec::new(),
        });
    }
    // `resources.Resources` is plain CloudFormation.
    if let Some(resources) = doc.get("resources").filter(|r| template::is_template(r)) {
        out.extend(template::stages(resources));
    }
    out
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

fn reference(inner: &str, doc: &Node, depth: usize) -> Result<String, String> {
    let (source, fallback) = match inner.split_once(',') {
        Some((s, f)) => (s.trim(), Some(f.trim())),
        None => (inner.trim(), None),
    };
    let fallback_value = |why: String| match fallback {
        Some(f) if f.starts_with('\'') || f.starts_with('"') => {
            Ok(f.trim_matches(|c| c == '\'' || c == '"').to_owned())
        }
        Some(f) => reference(f, doc, depth + 1),
        None => Err(why),
    };
    if let Some(path) = source.strip_prefix("self:") {
        let found = path
            .split('.')
            .filter(|p| !p.is_empty())
            .try_fold(doc, |n, key| n.get(key));
        return match found {
            Some(n) => resolve_at(n, doc, depth + 1),
            None => fallback_value(format!("${{self:{path}}} is not set")),
        };
    }
    if source == "sls:stage" {
        let provider = doc.get("provider");
        return match provider.and_then(|p| p.get("stage")) {
            Some(n) => resolve_at(n, doc, depth + 1),
            None => Ok("dev".into()),
        };
    }
    if source.starts_with("opt:") || source.starts_with("env:") {
        return fallback_value(format!(
            "${{{source}}} has no fallback and is known only when Serverless runs"
        ));
    }
    fallback_value(format!("${{{source}}} is known only when Serverless runs"))
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
