use super::*;
use apigw_tracing_rule::testing::today;

fn template(text: &str) -> Vec<(String, Verdict, Option<usize>, Option<String>)> {
    let doc = yaml::parse(text).unwrap();
    assert!(template::is_template(&doc));
    template::stages(&doc)
        .into_iter()
        .map(|s| {
            let (r, _) = judge("t.yaml", s, today());
            (r.resource, r.status, r.line, r.stage)
        })
        .collect()
}

#[test]
fn cloudformation_stages_deployments_and_parameters() {
    let got = template(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Tracing: {Type: String, Default: "true"}
  NoDefault: {Type: String}
Resources:
  On:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: prod, TracingEnabled: true}
  OnString:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: prod2, TracingEnabled: "true"}
  Off:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: dev}
  ByParam:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: p, TracingEnabled: !Ref Tracing}
  ByParamNoDefault:
    Type: AWS::ApiGateway::Stage
    Properties: {StageName: q, TracingEnabled: !Ref NoDefault}
  Computed:
    Type: AWS::ApiGateway::Stage
    Properties:
      StageName: !Sub "${AWS::StackName}-x"
      TracingEnabled: !If [IsProd, true, false]
  Exempted:
    Type: AWS::ApiGateway::Stage
    Properties:
      StageName: legacy
      Tags: [{Key: "apigw-tracing:exempt", Value: "vendor proxy"}]
  Lapsed:
    Type: AWS::ApiGateway::Stage
    Properties:
      StageName: old
      Tags:
        - {Key: "apigw-tracing:exempt", Value: "r"}
        - {Key: "apigw-tracing:exempt-until", Value: "2020-01-01"}
  Deploy:
    Type: AWS::ApiGateway::Deployment
    Properties:
      StageName: v1
      StageDescription: {TracingEnabled: false}
  DeployNoStage:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: x}
  Http:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {StageName: $default}
"#,
    );
    let want = [
        ("On", Verdict::Passed, Some(6), Some("prod")),
        ("OnString", Verdict::Passed, Some(9), Some("prod2")),
        ("Off", Verdict::Failed, Some(12), Some("dev")),
        ("ByParam", Verdict::Passed, Some(15), Some("p")),
        ("ByParamNoDefault", Verdict::Unknown, Some(18), Some("q")),
        ("Computed", Verdict::Unknown, Some(21), Some("(Fn::Sub)")),
        ("Exempted", Verdict::Exempt, Some(26), Some("legacy")),
        ("Lapsed", Verdict::Failed, Some(31), Some("old")),
        ("Deploy", Verdict::Failed, Some(38), Some("v1")),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(r, s, l, st)| (r.to_string(), *s, *l, st.map(str::to_owned)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn sam_apis_globals_and_the_implicit_api() {
    let got = template(
        r#"Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    TracingEnabled: true
Resources:
  Explicit:
    Type: AWS::Serverless::Api
    Properties: {StageName: live}
  ExplicitOff:
    Type: AWS::Serverless::Api
    Properties:
      StageName: beta
      TracingEnabled: false
      Tags: {"apigw-tracing:exempt": "load tests"}
  Fn1:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: Api, Properties: {Path: /, Method: get}}
  Fn2:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: Api, Properties: {Path: /b, Method: get}}
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: Api, Properties: {Path: /c, Method: get, RestApiId: !Ref Explicit}}
  Http:
    Type: AWS::Serverless::HttpApi
"#,
    );
    let statuses: Vec<_> = got
        .iter()
        .map(|(r, s, l, _)| (r.as_str(), *s, *l))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Explicit", Verdict::Passed, Some(6)),
            // SAM's "Stage" stage of each API without OpenApiVersion: never
            // traced, never tagged (aws-sam-translator: check_parity).
            ("Explicit", Verdict::Failed, Some(6)),
            ("ExplicitOff", Verdict::Exempt, Some(9)),
            ("ExplicitOff", Verdict::Failed, Some(9)),
            ("ServerlessRestApi", Verdict::Passed, Some(15)),
            ("ServerlessRestApi", Verdict::Failed, Some(15)),
        ]
    );
    let hidden: Vec<_> = got
        .iter()
        .filter(|(_, s, _, _)| *s == Verdict::Failed)
        .map(|(_, _, _, stage)| stage.as_deref())
        .collect();
    assert_eq!(hidden, [Some("Stage"); 3]);
    // Without the global, the implicit API fails, reported once, at the
    // first function (OpenApiVersion set: no "Stage" stage).
    let off = template(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Api:\n    OpenApiVersion: 3.0.1\nResources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: Api, Properties: {Path: /, Method: get}}\n  B:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: Api, Properties: {Path: /b, Method: get}}\n",
    );
    assert_eq!(
        off,
        [(
            "ServerlessRestApi".to_owned(),
            Verdict::Failed,
            Some(6),
            Some("Prod".to_owned())
        )]
    );
}

#[test]
fn terraform_plans_by_address() {
    let text = String::from(
        r#"{"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": [
          {"address": "aws_api_gateway_stage.on", "type": "aws_api_gateway_stage",
           "change": {"actions": ["create"], "after": {"stage_name": "prod", "xray_tracing_enabled": true}, "after_unknown": {}}},
          {"address": "module.api[\"orders\"].aws_api_gateway_stage.this", "type": "aws_api_gateway_stage",
           "change": {"actions": ["update"], "after": {"stage_name": "dev", "xray_tracing_enabled": null}, "after_unknown": {}}},
          {"address": "aws_api_gateway_stage.unknown", "type": "aws_api_gateway_stage",
           "change": {"actions": ["create"], "after": {"stage_name": "x"}, "after_unknown": {"xray_tracing_enabled": true}}},
          {"address": "aws_api_gateway_stage.gone", "type": "aws_api_gateway_stage",
           "change": {"actions": ["delete"], "after": null, "after_unknown": {}}},
          {"address": "aws_api_gateway_stage.replaced", "type": "aws_api_gateway_stage",
           "change": {"actions": ["delete", "create"], "after": {"stage_name": "r", "tags": {"apigw-tracing:exempt": "migration"}}, "after_unknown": {}}},
          {"address": "aws_api_gateway_stage.kept", "type": "aws_api_gateway_stage",
           "change": {"actions": ["no-op"], "after": {"stage_name": "k", "xray_tracing_enabled": false, "tags": null, "tags_all": {"apigw-tracing:exempt": "default tags"}}, "after_unknown": {}}},
          {"address": "awscc_apigateway_stage.cc", "type": "awscc_apigateway_stage",
           "change": {"actions": ["create"], "after": {"stage_name": "cc", "tracing_enabled": true}, "after_unknown": {}}},
          {"address": "aws_api_gateway_deployment.d", "type": "aws_api_gateway_deployment",
           "change": {"actions": ["create"], "after": {"stage_name": "v1"}, "after_unknown": {}}},
          {"address": "aws_api_gateway_deployment.plain", "type": "aws_api_gateway_deployment",
           "change": {"actions": ["create"], "after": {"stage_name": null}, "after_unknown": {}}},
          {"address": "aws_apigatewayv2_stage.http", "type": "aws_apigatewayv2_stage",
           "change": {"actions": ["create"], "after": {"name": "$default"}, "after_unknown": {}}}
        ]}"#,
    );
    let plan: terraform::Probe = serde_json::from_str(&text).unwrap();
    assert!(matches!(
        terraform::classify(&plan),
        terraform::Document::Plan(_)
    ));
    let got: Vec<(String, Verdict)> = terraform::stages(&plan)
        .into_iter()
        .map(|s| {
            let (r, _) = judge("plan.json", s, today());
            assert_eq!(r.line, None);
            (r.resource, r.status)
        })
        .collect();
    let want = [
        ("aws_api_gateway_stage.on", Verdict::Passed),
        (
            "module.api[\"orders\"].aws_api_gateway_stage.this",
            Verdict::Failed,
        ),
        ("aws_api_gateway_stage.unknown", Verdict::Unknown),
        ("aws_api_gateway_stage.replaced", Verdict::Exempt),
        ("aws_api_gateway_stage.kept", Verdict::Exempt),
        ("awscc_apigateway_stage.cc", Verdict::Passed),
        ("aws_api_gateway_deployment.d", Verdict::Failed),
    ];
    let want: Vec<_> = want.iter().map(|(a, s)| (a.to_string(), *s)).collect();
    assert_eq!(got, want);
    let (dep, _) = judge("p", terraform::stages(&plan).pop().unwrap(), today());
    assert!(
        dep.message.contains("aws_api_gateway_stage"),
        "{}",
        dep.message
    );
}

#[test]
fn a_malformed_exemption_tag_fails_with_a_warning() {
    let doc = yaml::parse(
        "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      Tags:\n        - {Key: \"apigw-tracing:exempt\", Value: \"r\"}\n        - {Key: \"apigw-tracing:exempt-until\", Value: \"soon\"}\n",
    )
    .unwrap();
    let (r, warnings) = judge("t.yaml", template::stages(&doc).remove(0), today());
    assert_eq!(r.status, Verdict::Failed);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("t.yaml: S:"), "{warnings:?}");
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let r = |resource: &str| CheckResult {
        rule: Rule::StageTracing,
        file: "a.yaml".into(),
        resource: resource.into(),
        resource_type: "t".into(),
        stage: Some("prod".into()),
        status: Verdict::Failed,
        line: Some(3),
        message: String::new(),
        fix: None,
        exemption: None,
        functions: Vec::new(),
    };
    assert_eq!(sarif::fingerprint(&r("A")), sarif::fingerprint(&r("A")));
    // A stage's trace path is another alert.
    let path = CheckResult {
        rule: Rule::TracePath,
        ..r("A")
    };
    assert_ne!(sarif::fingerprint(&path), sarif::fingerprint(&r("A")));
    assert_ne!(sarif::fingerprint(&r("A")), sarif::fingerprint(&r("B")));
    // Pinned: the same on every build and platform (code scanning matches
    // alerts across runs by it).
    assert_eq!(sarif::fingerprint(&r("A")), "2465151b6334d66b");
}

#[test]
fn states_and_malformed_plans_are_refused_and_unknown_versions_warned() {
    use terraform::{Document, Probe};
    let classify = |v: serde_json::Value| {
        let text = v.to_string();
        let probe: Probe = serde_json::from_str(&text).unwrap();
        terraform::classify(&probe)
    };
    let refused = |v: serde_json::Value| match classify(v.clone()) {
        Document::Refused(why) => why,
        other => panic!("{v}: {other:?}"),
    };
    assert!(refused(serde_json::json!({"version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "x", "resources": []}))
        .contains("state file"));
    assert!(refused(
        serde_json::json!({"format_version": "1.0", "terraform_version": "1.11.0", "values": {}})
    )
    .contains("state"));
    assert!(refused(serde_json::json!({"format_version": "1.2", "terraform_version": "1.11.0", "resource_changes": {}}))
        .contains("not an array"));
    match classify(
        serde_json::json!({"format_version": "9.0", "terraform_version": "9.0.0", "resource_changes": []}),
    ) {
        Document::Plan(w) => assert!(w[0].contains("newer than this tool knows"), "{w:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        classify(
            serde_json::json!({"format_version": "1.2", "terraform_version": "1.11.0", "resource_changes": []})
        ),
        Document::Plan(Vec::new())
    );
    assert_eq!(
        classify(serde_json::json!({"Resources": {}})),
        Document::Other
    );
}

#[test]
fn no_value_removes_tracing_so_the_stage_fails() {
    let got = template(
        "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      StageName: p\n      RestApiId: x\n      TracingEnabled: !Ref AWS::NoValue\n",
    );
    assert_eq!(got[0].1, Verdict::Failed, "{got:?}");
}

#[test]
fn sarif_uris_are_percent_encoded_relative_references() {
    assert_eq!(
        sarif::uri("infra/api/template.yaml"),
        "infra/api/template.yaml"
    );
    assert_eq!(
        sarif::uri("odd dir/a #1%?.yaml"),
        "odd%20dir/a%20%231%25%3F.yaml"
    );
    assert_eq!(sarif::uri("é.yaml"), "%C3%A9.yaml");
}

#[test]
fn stages_made_by_fn_foreach_are_judged() {
    let got = template(
        "Transform: AWS::LanguageExtensions\nResources:\n  'Fn::ForEach::Stages':\n    - Env\n    - [prod, dev]\n    - 'Stage${Env}':\n        Type: AWS::ApiGateway::Stage\n        Properties:\n          RestApiId: x\n          StageName: !Ref Env\n  'Fn::ForEach::Later':\n    - N\n    - !Split [',', !ImportValue names]\n    - 'Late${N}':\n        Type: AWS::ApiGateway::Stage\n        Properties:\n          RestApiId: x\n          StageName: !Ref N\n          TracingEnabled: true\n",
    );
    let got: Vec<(String, Verdict, Option<String>)> =
        got.into_iter().map(|(id, v, _, s)| (id, v, s)).collect();
    assert_eq!(
        got,
        [
            (
                "Stageprod".to_string(),
                Verdict::Failed,
                Some("prod".to_string())
            ),
            (
                "Stagedev".to_string(),
                Verdict::Failed,
                Some("dev".to_string())
            ),
            (
                "Late${N}".to_string(),
                Verdict::Unknown,
                Some("(Ref)".to_string())
            ),
        ]
    );
}

#[test]
fn an_awscc_stage_without_tracing_enabled_in_its_configuration_fails() {
    // awscc's tracing_enabled is Optional+Computed: unset or computed, the
    // plan says "known after apply"; the configuration tells them apart.
    let change = |name: &str| {
        format!(
            r#"{{"address": "module.m[0].awscc_apigateway_stage.{name}", "module_address": "module.m[0]", "type": "awscc_apigateway_stage", "name": "{name}",
               "change": {{"actions": ["create"], "after": {{"stage_name": "{name}"}}, "after_unknown": {{"tracing_enabled": true}}}}}}"#
        )
    };
    let text = format!(
        r#"{{"format_version": "1.2", "terraform_version": "1.11.4",
          "resource_changes": [{}, {}],
          "configuration": {{"root_module": {{"module_calls": {{"m": {{"module": {{"resources": [
            {{"address": "awscc_apigateway_stage.unset", "mode": "managed", "type": "awscc_apigateway_stage", "name": "unset", "expressions": {{"stage_name": {{"constant_value": "unset"}}}}}},
            {{"address": "awscc_apigateway_stage.computed", "mode": "managed", "type": "awscc_apigateway_stage", "name": "computed", "expressions": {{"tracing_enabled": {{"references": ["var.t"]}}}}}}
          ]}}}}}}}}}}}}"#,
        change("unset"),
        change("computed")
    );
    let doc: terraform::Probe<'_> = serde_json::from_str(&text).unwrap();
    let got: Vec<_> = terraform::stages(&doc)
        .into_iter()
        .map(|s| {
            let r = judge("p.json", s, today()).0;
            (r.resource, r.status)
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "module.m[0].awscc_apigateway_stage.unset".to_owned(),
                Verdict::Failed
            ),
            (
                "module.m[0].awscc_apigateway_stage.computed".to_owned(),
                Verdict::Unknown
            ),
        ]
    );
}
