//! CloudFormation, SAM and CDK templates: every REST API stage they create,
//! with what they say of its tracing. Pure.
//!
//! - `AWS::ApiGateway::Stage`: `TracingEnabled`, tags a Key/Value list;
//! - `AWS::ApiGateway::Deployment` with `StageName`: that stage, judged by
//!   `StageDescription.TracingEnabled`;
//! - `AWS::Serverless::Api`: `TracingEnabled`, else `Globals.Api`; tags a map;
//! - SAM's implicit `ServerlessRestApi` (stage `Prod`): made for functions
//!   with an `Api` event and no `RestApiId`, judged by `Globals.Api`;
//! - SAM's hidden `Stage` stage: for every REST API SAM makes (the two
//!   above) without `OpenApiVersion` (own or `Globals.Api`), SAM also emits
//!   an `AWS::ApiGateway::Deployment` with `StageName: Stage`, which creates
//!   a stage with tracing off (aws-sam-translator's `api_generator`; any
//!   `OpenApiVersion` value removes it, measured with the translator).
//!
//! HTTP and WebSocket APIs (ApiGatewayV2, `AWS::Serverless::HttpApi`) have no
//! tracing setting and are not reported.

use std::collections::BTreeMap;

use super::path::PathIndex;
use super::yaml::{Node, Value};
use super::{Fix, PlannedStage, Tracing};

/// Whether `doc` is a template: a mapping whose `Resources` is a mapping.
pub fn is_template(doc: &Node) -> bool {
    doc.get("Resources").is_some_and(Node::is_map)
}

pub fn stages(doc: &Node) -> Vec<PlannedStage> {
    let mut judge = Stages::new(doc);
    if let Some(resources) = doc.get("Resources") {
        for (key, node) in resources.entries() {
            judge.entry(key, node);
        }
    }
    judge.finish()
}

/// The stages of a template, judged one `Resources` entry at a time (a
/// large template is streamed: each entry is judged, then dropped).
pub struct Stages<'d> {
    params: Option<&'d Node>,
    globals: Option<&'d Node>,
    out: Vec<PlannedStage>,
    /// The REST API (logical id) of each stage in `out`.
    api_of: Vec<Option<String>>,
    implicit_api_at: Option<(usize, String)>,
    paths: PathIndex,
    /// Resources `Fn::ForEach` loops may still make (`foreach::MAX_MADE`).
    loops_left: usize,
    /// Each REST API's literal name (`None`: computed, or the stack's).
    api_names: BTreeMap<String, Option<String>>,
    /// The template's `AWS::XRay::SamplingRule`s.
    rules: Vec<apigw_tracing_rule::sampling::SamplingRule>,
}

impl<'d> Stages<'d> {
    /// `doc`: the template (its `Parameters` and `Globals`; its resources
    /// may be given to [`Stages::entry`] instead).
    pub fn new(doc: &'d Node) -> Self {
        Self {
            params: doc.get("Parameters"),
            globals: doc.get("Globals").and_then(|g| g.get("Api")),
            out: Vec::new(),
            api_of: Vec::new(),
            implicit_api_at: None,
            paths: PathIndex::new(doc),
            loops_left: super::foreach::MAX_MADE,
            api_names: BTreeMap::new(),
            rules: Vec::new(),
        }
    }

    /// One resource exactly as given, never read as a loop (the hook:
    /// CloudFormation hands it resources, already expanded).
    pub fn resource_as_is(&mut self, id: &str, node: &Node) {
        self.resource(id, node, None);
    }

    /// One entry of `Resources` (a loop is expanded first).
    pub fn entry(&mut self, key: &str, node: &Node) {
        for e in super::foreach::entry(key, node, self.params, &mut self.loops_left) {
            self.resource(&e.id, &e.node, e.unknown.as_deref());
        }
    }

    fn resource(&mut self, id: &str, res: &Node, unknown: Option<&str>) {
        let (params, globals) = (self.params, self.globals);
        let out = &mut self.out;
        let start = out.len();
        let line = res.key_line.unwrap_or(res.line) as usize;
        let props = res.get("Properties");
        let prop = |name: &str| props.and_then(|p| p.get(name));
        let kind = res.get("Type").and_then(Node::as_str).unwrap_or_default();
        match kind {
            "AWS::ApiGateway::RestApi" | "AWS::Serverless::Api" => {
                self.api_names
                    .insert(id.to_owned(), super::cfn_sampling::literal_name(props));
            }
            super::SAMPLING_RULE_TYPE => self.rules.push(super::cfn_sampling_rule(id, props)),
            _ => {}
        }
        match kind {
            "AWS::ApiGateway::Stage" => out.push(PlannedStage {
                resource: id.to_owned(),
                resource_type: kind.into(),
                stage: prop("StageName").and_then(name_of),
                tracing: tracing_of(prop("TracingEnabled"), params),
                tags: key_value_tags(prop("Tags")),
                line: Some(line),
                note: None,
                fix: Fix::CloudFormationStage,
                path: Vec::new(),
                sampling: Default::default(),
            }),
            "AWS::ApiGateway::Deployment" => {
                let Some(stage) = prop("StageName") else {
                    return;
                };
                let desc = prop("StageDescription");
                out.push(PlannedStage {
                    resource: id.to_owned(),
                    resource_type: kind.into(),
                    stage: name_of(stage),
                    tracing: tracing_of(desc.and_then(|d| d.get("TracingEnabled")), params),
                    tags: key_value_tags(desc.and_then(|d| d.get("Tags"))),
                    line: Some(line),
                    note: Some("the stage is created by the deployment (StageName)".into()),
                    fix: Fix::CloudFormationDeployment,
                    path: Vec::new(),
                    sampling: Default::default(),
                });
            }
            "AWS::Serverless::Api" => {
                let own = prop("TracingEnabled");
                let from_globals =
                    own.is_none() && globals.and_then(|g| g.get("TracingEnabled")).is_some();
                let setting = own.or_else(|| globals.and_then(|g| g.get("TracingEnabled")));
                let mut tags = map_tags(globals.and_then(|g| g.get("Tags")));
                tags.extend(map_tags(prop("Tags")));
                out.push(PlannedStage {
                    resource: id.to_owned(),
                    resource_type: kind.into(),
                    stage: prop("StageName").and_then(name_of),
                    tracing: tracing_of(setting, params),
                    tags,
                    line: Some(line),
                    note: from_globals.then(|| "TracingEnabled comes from Globals.Api".into()),
                    fix: Fix::Sam,
                    path: Vec::new(),
                    sampling: Default::default(),
                });
                if prop("OpenApiVersion").is_none() {
                    out.extend(sam_stage_stage(id, line, globals));
                }
            }
            "AWS::Serverless::Function" if self.implicit_api_at.is_none() => {
                let events = prop("Events");
                let makes_implicit_api = events.is_some_and(|e| {
                    e.entries().iter().any(|(_, ev)| {
                        ev.get("Type").and_then(Node::as_str) == Some("Api")
                            && ev
                                .get("Properties")
                                .and_then(|p| p.get("RestApiId"))
                                .is_none()
                    })
                });
                if makes_implicit_api {
                    self.implicit_api_at = Some((line, id.to_owned()));
                }
            }
            _ => {}
        }
        // A stage made by a loop that cannot be expanded before deploy.
        if let Some(why) = unknown {
            for s in &mut self.out[start..] {
                s.tracing = Tracing::Unknown(why.to_owned());
            }
        }
        // The API each new stage belongs to: its RestApiId, or the SAM API
        // itself.
        let api = match kind {
            "AWS::Serverless::Api" => Some(id.to_owned()),
            _ => prop("RestApiId").and_then(super::path::first_ref),
        };
        let added = self.out.len() - start;
        self.api_of.extend(std::iter::repeat_n(api, added));
        self.paths.resource(id, res);
    }

    /// Every stage judged so far, with SAM's implicit API last.
    pub fn finish(mut self) -> Vec<PlannedStage> {
        let (params, globals) = (self.params, self.globals);
        if let Some((line, function)) = self.implicit_api_at.take() {
            self.out.push(PlannedStage {
                resource: "ServerlessRestApi".into(),
                resource_type: "AWS::Serverless::Api (implicit)".into(),
                stage: Some("Prod".into()),
                tracing: tracing_of(globals.and_then(|g| g.get("TracingEnabled")), params),
                tags: map_tags(globals.and_then(|g| g.get("Tags"))),
                line: Some(line),
                note: Some(format!(
                    "SAM creates this API for the Api event of {function} (and any other function without RestApiId); its stage takes Globals.Api"
                )),
                fix: Fix::SamGlobals,
                path: Vec::new(),
                sampling: Default::default(),
            });
            self.out
                .extend(sam_stage_stage("ServerlessRestApi", line, globals));
        }
        self.api_of
            .resize(self.out.len(), Some("ServerlessRestApi".to_owned()));
        // Each stage's trace path, now that every function is known; its
        // API's name and the template's sampling rules (one shared copy).
        let rules: std::rc::Rc<[_]> = std::mem::take(&mut self.rules).into();
        for (stage, api) in self.out.iter_mut().zip(&self.api_of) {
            if let Some(api) = api {
                stage.path = self.paths.behind(api);
            }
            stage.sampling = super::sampling::StageSampling {
                api_name: api
                    .as_ref()
                    .and_then(|a| self.api_names.get(a).cloned().flatten()),
                rules: rules.clone(),
            };
        }
        self.out
    }
}

/// The `Stage` stage SAM creates for a REST API unless `OpenApiVersion` is
/// set (on the API, or in `Globals.Api` for every API): its deployment has
/// no `StageDescription`, so the stage never traces.
fn sam_stage_stage(api: &str, line: usize, globals: Option<&Node>) -> Option<PlannedStage> {
    if globals.is_some_and(|g| g.get("OpenApiVersion").is_some()) {
        return None;
    }
    Some(PlannedStage {
        resource: api.to_owned(),
        resource_type: "AWS::Serverless::Api (SAM's Stage stage)".into(),
        stage: Some("Stage".into()),
        tracing: Tracing::Off { note: None },
        tags: BTreeMap::new(),
        line: Some(line),
        note: Some(
            "SAM adds a deployment with StageName Stage to every REST API without OpenApiVersion"
                .into(),
        ),
        fix: Fix::SamOpenApiVersion,
        path: Vec::new(),
        sampling: Default::default(),
    })
}

/// What a `TracingEnabled` value says. A `Ref` to a parameter is judged by
/// its default; any other intrinsic cannot be known before deploy.
fn tracing_of(setting: Option<&Node>, params: Option<&Node>) -> Tracing {
    let Some(node) = setting else {
        return Tracing::Off { note: None };
    };
    if let Some((f, arg)) = node.intrinsic() {
        if f == "Ref" {
            let name = arg.as_str().unwrap_or_default();
            // CloudFormation removes a property set to AWS::NoValue: the
            // stage is created as if TracingEnabled were not written.
            if name == "AWS::NoValue" {
                return Tracing::Off {
                    note: Some("TracingEnabled is AWS::NoValue, so it is not set".into()),
                };
            }
            let default = params
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("Default"));
            return match default {
                Some(d) => {
                    let note = Some(format!("judged by the default of parameter {name}"));
                    match literal(d) {
                        Some(true) => Tracing::On { note },
                        Some(false) => Tracing::Off { note },
                        None => Tracing::Unknown(format!(
                            "parameter {name} has a default that is not true or false"
                        )),
                    }
                }
                None => Tracing::Unknown(format!(
                    "TracingEnabled is the parameter {name}, which has no default"
                )),
            };
        }
        return Tracing::Unknown(format!(
            "TracingEnabled is computed ({f}) and known only at deploy time"
        ));
    }
    match literal(node) {
        Some(true) => Tracing::On { note: None },
        Some(false) | None => Tracing::Off { note: None },
    }
}

/// `true`, `"true"` (any case): on; `false`, `"false"`: off.
fn literal(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A stage name, or how it is computed.
fn name_of(node: &Node) -> Option<String> {
    node.scalar_text()
        .or_else(|| node.intrinsic().map(|(f, _)| format!("({f})")))
}

/// CloudFormation's `[{Key, Value}]` tags.
pub(crate) fn key_value_tags(node: Option<&Node>) -> BTreeMap<String, String> {
    node.map(|n| {
        n.items()
            .iter()
            .filter_map(|t| Some((t.get("Key")?.scalar_text()?, t.get("Value")?.scalar_text()?)))
            .collect()
    })
    .unwrap_or_default()
}

/// SAM's `{key: value}` tags.
fn map_tags(node: Option<&Node>) -> BTreeMap<String, String> {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.to_string(), v.scalar_text()?)))
            .collect()
    })
    .unwrap_or_default()
}
