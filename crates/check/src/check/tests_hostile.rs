//! Templates and Serverless services a hostile pull request (or an unusual
//! repository) can write: each once crashed the walk, expanded without
//! bound, or passed a stage that deploys untraced. And nothing read from
//! outside the checked tree reaches any output.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::output::{check_paths, table, Checked, Reading};
use super::*;
use apigw_tracing_rule::testing::today;

/// A scratch directory with `files` written into it.
fn scratch(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    super::tfsource::tests::tree(&format!("hostile-{tag}"), files)
}

fn walk(dir: &Path) -> Checked {
    let read = Reading {
        max_file_size: 64 << 20,
        named_files_must_be_input: true,
        var_files: &[],
    };
    check_paths(&[dir.to_owned()], dir, today(), read).unwrap()
}

/// (resource, status, message) of every stage-rule result.
fn statuses(c: &Checked) -> Vec<(String, Verdict, String)> {
    c.results
        .iter()
        .filter(|r| r.rule == Rule::StageTracing)
        .map(|r| (r.resource.clone(), r.status, r.message.clone()))
        .collect()
}

fn serverless(text: &str) -> Vec<(String, Tracing)> {
    serverless::stages(&yaml::parse(text).unwrap())
        .into_iter()
        .map(|s| (s.resource, s.tracing))
        .collect()
}

const HTTP: &str = "functions:\n  f:\n    events:\n      - http: GET /\n";

#[test]
fn a_serverless_fallback_chain_of_200000_ends_and_the_walk_goes_on() {
    let mut chain = String::from("${self:a0");
    for i in 1..200_000 {
        chain += &format!(", self:a{i}");
    }
    chain += ", 'true'}";
    let dir = scratch(
        "fallbacks",
        &[
            (
                "serverless.yml",
                &format!("service: s\nprovider:\n  name: aws\n  tracing:\n    apiGateway: \"{chain}\"\n{HTTP}"),
            ),
            (
                "template.yaml",
                "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties: {StageName: s}\n",
            ),
        ],
    );
    let started = Instant::now();
    let c = walk(&dir);
    assert!(started.elapsed() < Duration::from_secs(20));
    let got = statuses(&c);
    let sls = got.iter().find(|g| g.0 == "ApiGatewayRestApi").unwrap();
    assert_eq!(sls.1, Verdict::Unknown, "{sls:?}");
    assert!(sls.2.contains("fallbacks"), "{sls:?}");
    assert!(
        got.iter().any(|g| g.0 == "S" && g.1 == Verdict::Failed),
        "{got:?}"
    );
}

#[test]
fn serverless_sections_split_across_arrays_and_references_are_merged() {
    // functions as a list of maps (Serverless merges them).
    let got = serverless("provider:\n  name: aws\nfunctions:\n  - a:\n      handler: x\n  - b:\n      events:\n        - http: GET /\n");
    assert_eq!(
        got,
        [("ApiGatewayRestApi".into(), Tracing::Off { note: None })]
    );
    // An http event written as a reference to an object.
    let got = serverless("custom:\n  ev:\n    http: GET /\nprovider:\n  name: aws\nfunctions:\n  f:\n    events:\n      - ${self:custom.ev}\n");
    assert_eq!(
        got,
        [("ApiGatewayRestApi".into(), Tracing::Off { note: None })]
    );
    // resources as a list, one of them a failing stage.
    let got = serverless("provider:\n  name: aws\nresources:\n  - Outputs: {}\n  - Resources:\n      S:\n        Type: AWS::ApiGateway::Stage\n        Properties: {StageName: x}\n");
    assert_eq!(got, [("S".into(), Tracing::Off { note: None })]);
    // What is never read is unknown, never nothing.
    for text in [
        "provider:\n  name: aws\nfunctions: ${file(./fns.yml)}\n",
        "provider:\n  name: aws\nfunctions:\n  f:\n    events: ${file(./ev.yml)}\n",
        "provider:\n  name: aws\nresources: ${file(./resources.yml)}\n",
    ] {
        let got = serverless(text);
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        assert!(
            matches!(&got[0].1, Tracing::Unknown(why) if why.contains("${file(")),
            "{text}: {got:?}"
        );
    }
}

#[test]
fn a_merge_key_applies_and_a_provider_from_a_file_is_unknown() {
    let got = serverless(&format!(
        "custom:\n  trace: &trace\n    apiGateway: true\nprovider:\n  name: aws\n  tracing:\n    <<: *trace\n{HTTP}"
    ));
    assert_eq!(got[0].1, Tracing::On { note: None });
    let got = serverless(&format!("provider: ${{file(./provider.yml)}}\n{HTTP}"));
    assert!(
        matches!(&got[0].1, Tracing::Unknown(why) if why.contains("provider")),
        "{got:?}"
    );
}

#[test]
fn aliases_that_double_are_refused_quickly() {
    let mut text = String::from("a0: &a0 [x, x]\n");
    for i in 1..40 {
        text += &format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1);
    }
    let started = Instant::now();
    let e = yaml::parse(&text).unwrap_err();
    assert!(e.message.contains("aliases"), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Aliases nesting deeper than the limit are refused too.
    let mut text = String::from("a0: &a0 [x]\n");
    for i in 1..400 {
        text += &format!("a{i}: &a{i} [*a{}]\n", i - 1);
    }
    assert!(yaml::parse(&text).is_err());
}

#[test]
fn fn_foreach_stops_at_cloudformations_500_resources() {
    let values: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
    let list = format!("[{}]", values.join(", "));
    let text = format!(
        "Transform: AWS::LanguageExtensions\nResources:\n  'Fn::ForEach::A':\n    - A\n    - {list}\n    - 'Fn::ForEach::B':\n        - B\n        - {list}\n        - 'Fn::ForEach::C':\n            - C\n            - {list}\n            - 'S${{A}}${{B}}${{C}}':\n                Type: AWS::ApiGateway::Stage\n                Properties:\n                  StageName: !Ref C\n  Plain:\n    Type: AWS::ApiGateway::Stage\n    Properties: {{StageName: p}}\n"
    );
    let started = Instant::now();
    let stages = template::stages(&yaml::parse(&text).unwrap());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        stages.len(),
        2,
        "the loop's one resource as written, and Plain"
    );
    assert!(
        matches!(&stages[0].tracing, Tracing::Unknown(why) if why.contains("500 resources")),
        "{:?}",
        stages[0]
    );
    assert_eq!(stages[1].resource, "Plain");
}

#[test]
fn a_getatt_rest_api_id_and_a_functions_own_parameter_mode_are_followed() {
    let text = r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Mode: {Type: String, Default: PassThrough}
Globals:
  Function: {Tracing: Active}
Resources:
  Api: {Type: AWS::ApiGateway::RestApi}
  F: {Type: AWS::Lambda::Function, Properties: {TracingConfig: {Mode: Active}}}
  M:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !GetAtt Api.RestApiId
      Integration: {Type: AWS_PROXY, Uri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${F.Arn}/invocations"}
  S: {Type: AWS::ApiGateway::Stage, Properties: {RestApiId: !GetAtt Api.RestApiId, StageName: s, TracingEnabled: true}}
  SamApi: {Type: AWS::Serverless::Api, Properties: {StageName: v1, TracingEnabled: true, OpenApiVersion: '3.0.1'}}
  G:
    Type: AWS::Serverless::Function
    Properties:
      Tracing: !Ref Mode
      Events: {E: {Type: Api, Properties: {RestApiId: !Ref SamApi, Path: /, Method: get}}}
"#;
    let doc = yaml::parse(text).unwrap();
    let mut paths = Vec::new();
    for mut s in template::stages(&doc) {
        let path = std::mem::take(&mut s.path);
        let (r, _) = judge("t.yaml", s, today());
        if let Some(p) = judge_path(path, &r) {
            paths.push((p.resource, p.status));
        }
    }
    assert!(paths.contains(&("S".into(), Verdict::Passed)), "{paths:?}");
    assert!(
        paths.contains(&("SamApi".into(), Verdict::Failed)),
        "{paths:?}"
    );
}

#[test]
fn nothing_from_outside_the_tree_or_a_sensitive_variable_reaches_any_output() {
    let outside = scratch(
        "outside-secrets",
        &[
            ("prod.tfvars", "name = \"LEAKED-FROM-OUTSIDE\"\n"),
            (".env", "TOKEN=ghp_outsideTOKEN\n"),
        ],
    );
    let dir = scratch(
        "leaktree",
        &[(
            "infra/main.tf",
            "variable \"name\" { default = \"ok\" }\nvariable \"pw\" {\n  default   = \"db-PASSWORD-1\"\n  sensitive = true\n}\nresource \"aws_api_gateway_stage\" \"a\" {\n  stage_name = var.name\n}\nresource \"aws_api_gateway_stage\" \"b\" {\n  stage_name = var.pw\n  tags       = { t = var.pw }\n}\n",
        )],
    );
    std::os::unix::fs::symlink(
        outside.join("prod.tfvars"),
        dir.join("infra/terraform.tfvars"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.join(".env"), dir.join("infra/a.auto.tfvars")).unwrap();
    let c = walk(&dir);
    let printed = [
        table(&c),
        serde_json::to_string(&c).unwrap(),
        serde_json::to_string(&sarif::to_sarif(&c)).unwrap(),
    ];
    for out in &printed {
        for secret in [
            "LEAKED-FROM-OUTSIDE",
            "ghp_outsideTOKEN",
            "db-PASSWORD-1",
            "outside-secrets",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
    }
    assert!(
        printed[0].contains("terraform.tfvars"),
        "the refused link is named: {}",
        printed[0]
    );
    assert_eq!(statuses(&c).len(), 2);
}
