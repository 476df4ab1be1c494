//! The trace path a template shows: for each stage, the Lambda functions
//! defined in the same template that its API's methods integrate with, and
//! its Lambda authorizers, with each function's X-Ray mode. A traced stage
//! in front of a function without active tracing gives a broken service
//! map; Security Hub's Lambda.7 asks for `Active` on every function, and so
//! does this rule (a PassThrough function records only what an upstream
//! sampled, as the older Lambda docs and the newer ones describe it
//! differently). Functions not defined in the file are not reported. Pure.
//!
//! - CloudFormation: `AWS::ApiGateway::Method` (`RestApiId`,
//!   `Integration.Uri` naming a function by `Fn::GetAtt`, `Ref` or inside
//!   `Fn::Sub` / `Fn::Join`), `AWS::ApiGateway::Authorizer`
//!   (`AuthorizerUri`), `AWS::Lambda::Function` (`TracingConfig.Mode`);
//! - SAM: `AWS::Serverless::Function` with `Api` events (`RestApiId`, or the
//!   implicit `ServerlessRestApi`), `Tracing` or `Globals.Function.Tracing`;
//!   an `AWS::Serverless::Api`'s `Auth.Authorizers.*.FunctionArn`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::yaml::Node;
use super::Tracing;

/// One function behind a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathFunction {
    /// The logical id or Terraform address.
    pub name: String,
    /// `Active`, `PassThrough`, `not set`, or why it is unknown.
    pub mode: String,
    #[serde(skip)]
    pub tracing: Tracing,
    pub authorizer: bool,
    /// OpenTelemetry on the function: notes, not the verdict.
    #[serde(skip_serializing_if = "otel_off")]
    pub otel: apigw_tracing_rule::trace_path::Otel,
}

fn otel_off(o: &apigw_tracing_rule::trace_path::Otel) -> bool {
    !o.instrumented
}

/// What a template says of its functions and what invokes them.
#[derive(Debug, Default)]
pub struct PathIndex {
    functions: BTreeMap<String, (Tracing, String)>,
    /// Each function's OpenTelemetry (layers, two variables).
    otel: BTreeMap<String, apigw_tracing_rule::trace_path::Otel>,
    /// SAM's `Globals.Function` (its layers and variables).
    global_function: Option<Node>,
    /// (API logical id, function logical id, is an authorizer).
    edges: BTreeSet<(String, String, bool)>,
    /// `Globals.Function.Tracing`, judged.
    global_tracing: Option<(Tracing, String)>,
    /// Each parameter's default, where it is a scalar: a mode written as
    /// `!Ref Param` is judged by it.
    defaults: BTreeMap<String, Option<String>>,
}

impl PathIndex {
    pub fn new(doc: &Node) -> Self {
        let defaults = doc
            .get("Parameters")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .map(|(k, p)| {
                let d = p.get("Default").and_then(Node::scalar_text);
                (k.to_string(), d)
            })
            .collect();
        let mut index = Self {
            defaults,
            ..Self::default()
        };
        index.global_tracing = doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Tracing"))
            .map(|t| index.mode_of(Some(t)));
        index.global_function = doc.get("Globals").and_then(|g| g.get("Function")).cloned();
        index
    }

    /// Notes what one resource adds to the paths.
    pub fn resource(&mut self, id: &str, res: &Node) {
        let props = res.get("Properties");
        let prop = |name: &str| props.and_then(|p| p.get(name));
        match res.get("Type").and_then(Node::as_str).unwrap_or_default() {
            "AWS::Lambda::Function" => {
                let mode = prop("TracingConfig").and_then(|t| t.get("Mode"));
                let judged = self.mode_of(mode);
                self.functions.insert(id.to_owned(), judged);
                self.otel
                    .insert(id.to_owned(), super::otel::from_cfn(props, None));
            }
            "AWS::Serverless::Function" => {
                // The function's own Tracing wins over Globals, whatever
                // its form (SAM's precedence), a parameter included.
                let judged = match prop("Tracing") {
                    Some(own) => self.mode_of(Some(own)),
                    None => self
                        .global_tracing
                        .clone()
                        .unwrap_or_else(|| mode_text(None)),
                };
                self.functions.insert(id.to_owned(), judged);
                let otel = super::otel::from_cfn(props, self.global_function.as_ref());
                self.otel.insert(id.to_owned(), otel);
                for (_, event) in prop("Events").map(Node::entries).unwrap_or_default() {
                    if event.get("Type").and_then(Node::as_str) != Some("Api") {
                        continue;
                    }
                    let api = match event.get("Properties").and_then(|p| p.get("RestApiId")) {
                        Some(r) => first_ref(r),
                        None => Some("ServerlessRestApi".to_owned()),
                    };
                    if let Some(api) = api {
                        self.edges.insert((api, id.to_owned(), false));
                    }
                }
            }
            "AWS::ApiGateway::Method" => {
                let integration = prop("Integration");
                let kind = integration
                    .and_then(|i| i.get("Type"))
                    .and_then(Node::as_str)
                    .unwrap_or_default();
                // Only AWS and AWS_PROXY integrations invoke a function.
                if let (Some(api), true) = (
                    prop("RestApiId").and_then(first_ref),
                    matches!(kind, "AWS" | "AWS_PROXY"),
                ) {
                    for f in refs(integration.and_then(|i| i.get("Uri"))) {
                        self.edges.insert((api.clone(), f, false));
                    }
                }
            }
            "AWS::ApiGateway::Authorizer" => {
                if let Some(api) = prop("RestApiId").and_then(first_ref) {
                    for f in refs(prop("AuthorizerUri")) {
                        self.edges.insert((api.clone(), f, true));
                    }
                }
            }
            "AWS::Serverless::Api" => {
                let authorizers = prop("Auth").and_then(|a| a.get("Authorizers"));
                for (_, a) in authorizers.map(Node::entries).unwrap_or_default() {
                    for f in refs(a.get("FunctionArn")) {
                        self.edges.insert((id.to_owned(), f, true));
                    }
                }
                self.openapi(id, prop("DefinitionBody"));
            }
            // An OpenAPI body (what SAM and SpecRestApi produce).
            "AWS::ApiGateway::RestApi" => self.openapi(id, prop("Body")),
            _ => {}
        }
    }

    /// The integrations and authorizers of an OpenAPI definition:
    /// `x-amazon-apigateway-integration.uri` (types `aws` and `aws_proxy`)
    /// and `x-amazon-apigateway-authorizer.authorizerUri`, at any depth.
    fn openapi(&mut self, api: &str, body: Option<&Node>) {
        let mut stack: Vec<&Node> = body.into_iter().collect();
        while let Some(n) = stack.pop() {
            for (k, v) in n.entries() {
                match k.as_str() {
                    "x-amazon-apigateway-integration" => {
                        let kind = v.get("type").and_then(Node::as_str).unwrap_or_default();
                        if matches!(kind.to_ascii_lowercase().as_str(), "aws" | "aws_proxy") {
                            for f in refs(v.get("uri")) {
                                self.edges.insert((api.to_owned(), f, false));
                            }
                        }
                    }
                    "x-amazon-apigateway-authorizer" => {
                        for f in refs(v.get("authorizerUri")) {
                            self.edges.insert((api.to_owned(), f, true));
                        }
                    }
                    _ => stack.push(v),
                }
            }
            stack.extend(n.items());
        }
    }

    /// The functions of this template behind `api`, in name order.
    pub fn behind(&self, api: &str) -> Vec<PathFunction> {
        self.edges
            .iter()
            .filter(|(a, _, _)| a == api)
            .filter_map(|(_, f, authorizer)| {
                let (tracing, mode) = self.functions.get(f)?;
                Some(PathFunction {
                    name: f.clone(),
                    mode: mode.clone(),
                    tracing: tracing.clone(),
                    authorizer: *authorizer,
                    otel: self.otel.get(f).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// `TracingConfig.Mode` (CloudFormation) as a judgement.
impl PathIndex {
    /// A mode as written: a literal, a parameter judged by its default, or
    /// computed at deploy time.
    fn mode_of(&self, node: Option<&Node>) -> (Tracing, String) {
        match node.map(|n| (n, n.intrinsic())) {
            None => mode_text(None),
            Some((n, None)) => mode_text(n.scalar_text()),
            Some((_, Some(("Ref", p)))) => {
                let name = p.as_str().unwrap_or_default();
                match self.defaults.get(name) {
                    Some(Some(default)) => {
                        let (tracing, mode) = mode_text(Some(default.clone()));
                        (
                            tracing,
                            format!(
                                "{mode} (the default of parameter {})",
                                crate::model::cut(name)
                            ),
                        )
                    }
                    _ => (
                        Tracing::Unknown(format!(
                            "the tracing mode is parameter {}, which has no default",
                            crate::model::cut(name)
                        )),
                        "computed".into(),
                    ),
                }
            }
            Some(_) => (
                Tracing::Unknown("the tracing mode is computed at deploy time".into()),
                "computed".into(),
            ),
        }
    }
}

/// `Active` is on; `PassThrough`, `Disabled` (SAM) or unset is off.
fn mode_text(mode: Option<String>) -> (Tracing, String) {
    match mode.as_deref() {
        Some("Active") => (Tracing::On { note: None }, "Active".into()),
        Some(m) => (Tracing::Off { note: None }, m.to_owned()),
        None => (Tracing::Off { note: None }, "PassThrough, not set".into()),
    }
}

/// The logical id a `Ref` / `Fn::GetAtt` names (`!GetAtt Api.RestApiId`
/// names the API as `!Ref Api` does).
pub fn first_ref(node: &Node) -> Option<String> {
    refs(Some(node)).into_iter().next()
}

/// Every logical id a value refers to: `Ref`, `Fn::GetAtt` (list or
/// `A.Arn` form), and `${A}` / `${A.Arn}` inside `Fn::Sub` strings, at any
/// depth (`Fn::Join` lists included).
fn refs(node: Option<&Node>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = node {
        collect(n, &mut out);
    }
    out
}

fn collect(node: &Node, out: &mut Vec<String>) {
    if let Some((f, arg)) = node.intrinsic() {
        match f {
            "Ref" => out.extend(arg.as_str().map(str::to_owned)),
            "Fn::GetAtt" => {
                let first = arg
                    .items()
                    .first()
                    .and_then(Node::as_str)
                    .map(str::to_owned);
                let dotted = arg
                    .as_str()
                    .and_then(|s| s.split('.').next())
                    .map(str::to_owned);
                out.extend(first.or(dotted));
            }
            "Fn::Sub" => {
                let template = arg
                    .as_str()
                    .or_else(|| arg.items().first().and_then(Node::as_str));
                out.extend(template.into_iter().flat_map(sub_refs));
                // `[template, {Name: value}]`: what the names stand for.
                for (_, v) in arg.items().get(1).map(Node::entries).unwrap_or_default() {
                    collect(v, out);
                }
            }
            _ => {
                for item in arg.items() {
                    collect(item, out);
                }
                for (_, v) in arg.entries() {
                    collect(v, out);
                }
            }
        }
        return;
    }
    for item in node.items() {
        collect(item, out);
    }
}

/// `${Name}` and `${Name.Attr}` in an `Fn::Sub` string (not `${!Literal}`
/// nor pseudo parameters such as `${AWS::Region}`).
fn sub_refs(template: &str) -> Vec<String> {
    template
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .filter(|name| !name.starts_with('!') && !name.contains("::"))
        .filter_map(|name| name.split('.').next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::check::{judge, judge_path, template, yaml, Verdict};
    use apigw_tracing_rule::testing::today;

    /// (stage resource, path verdict, functions named in the message).
    fn paths(text: &str) -> Vec<(String, Verdict, String)> {
        let doc = yaml::parse(text).unwrap();
        template::stages(&doc)
            .into_iter()
            .filter_map(|mut s| {
                let path = std::mem::take(&mut s.path);
                let (r, _) = judge("t.yaml", s, today());
                let p = judge_path(path, &r)?;
                let names: Vec<String> = p.functions.iter().map(|f| f.name.clone()).collect();
                Some((p.resource, p.status, names.join(",")))
            })
            .collect()
    }

    #[test]
    fn functions_are_found_through_every_intrinsic_form() {
        let got = paths(
            r#"Resources:
  A: {Type: AWS::Lambda::Function, Properties: {TracingConfig: {Mode: Active}}}
  B: {Type: AWS::Lambda::Function, Properties: {TracingConfig: {Mode: PassThrough}}}
  C: {Type: AWS::Lambda::Function, Properties: {TracingConfig: {Mode: !Ref ModeParam}}}
  Api: {Type: AWS::ApiGateway::RestApi}
  M1:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${A.Arn}/invocations"}
  M2:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      Integration: {Type: HTTP, Uri: !GetAtt B.Arn}
  Auth:
    Type: AWS::ApiGateway::Authorizer
    Properties: {RestApiId: !Ref Api, AuthorizerUri: !Join ["", ["x", !GetAtt A.Arn]]}
  S: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !Ref Api, StageName: s, TracingEnabled: true}}
  Api2: {Type: AWS::ApiGateway::RestApi}
  M3:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api2
      Integration: {Type: AWS, Uri: {"Fn::GetAtt": "B.Arn"}}
  M4:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api2
      Integration: {Type: AWS, Uri: !Sub ["${F}", {F: !GetAtt C.Arn}]}
  S2: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !Ref Api2, StageName: t, TracingEnabled: true}}
  Off: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !Ref Api2, StageName: u}}
  Api3: {Type: AWS::ApiGateway::RestApi}
  M5:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api3
      Integration: {Type: AWS, Uri: !GetAtt C.Arn}
  S3: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !Ref Api3, StageName: w, TracingEnabled: true}}
"#,
        );
        assert_eq!(
            got,
            [
                // A (integration and authorizer, once each); the HTTP
                // integration to B is not on the path.
                ("S".to_owned(), Verdict::Passed, "A,A".to_owned()),
                ("S2".to_owned(), Verdict::Failed, "B,C".to_owned()),
                // A computed mode alone: unknown. An untraced stage: no path.
                ("S3".to_owned(), Verdict::Unknown, "C".to_owned()),
            ]
        );
    }

    #[test]
    fn sam_events_globals_and_the_implicit_api() {
        let got = paths(
            "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: {Tracing: Active}\n  Api: {TracingEnabled: true, OpenApiVersion: '3.0.1'}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events: {E: {Type: Api, Properties: {Path: /, Method: get}}}\n  G:\n    Type: AWS::Serverless::Function\n    Properties:\n      Tracing: Disabled\n      Events: {E: {Type: Api, Properties: {Path: /g, Method: get}}}\n  Lone: {Type: AWS::Serverless::Function}\n",
        );
        assert_eq!(
            got,
            [(
                "ServerlessRestApi".to_owned(),
                Verdict::Failed,
                "F,G".to_owned()
            )]
        );
    }
}
