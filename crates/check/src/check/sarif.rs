//! SARIF 2.1.0 for code scanning (GitHub, GitLab): two rules. The stage
//! rule: a result per FAILED stage (error), per UNKNOWN stage (note) and per
//! EXEMPT stage (suppressed, the exemption's reason as justification). The
//! trace-path rule: a result per traced stage with a function of the same
//! file behind it that does not trace (warning), or whose mode is computed
//! (note). The sampling rule: a result per traced stage its file's sampling
//! rules leave blind (error) or partly seen (warning), or whose verdict is
//! known only at deploy (note). PASSED is not reported.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Suppression, Tool, ToolComponent,
};

use super::output::Checked;
use super::{CheckResult, Rule, Verdict};

pub const RULE_ID: &str = "APIGW-TRACING-001";
pub const PATH_RULE_ID: &str = "APIGW-TRACING-002";
pub const SAMPLING_RULE_ID: &str = "APIGW-TRACING-003";
pub const HELP_URI: &str =
    "https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html";

const HELP_TEXT: &str = "Turn on X-Ray active tracing for every API Gateway REST API stage.
Terraform: xray_tracing_enabled = true on aws_api_gateway_stage (tracing_enabled = true on awscc_apigateway_stage); create stages with aws_api_gateway_stage, not stage_name on aws_api_gateway_deployment.
CloudFormation: TracingEnabled: true on AWS::ApiGateway::Stage (StageDescription.TracingEnabled: true on a deployment that creates its stage).
SAM: TracingEnabled: true on AWS::Serverless::Api, or Globals.Api.TracingEnabled: true (this also covers the implicit ServerlessRestApi).
To accept an exception, tag the stage apigw-tracing:exempt=<reason> (optionally apigw-tracing:exempt-until=YYYY-MM-DD).";

const HELP_MARKDOWN: &str = "Turn on X-Ray active tracing for every API Gateway REST API stage.

| Source | Fix |
|---|---|
| Terraform | `xray_tracing_enabled = true` on `aws_api_gateway_stage` (`tracing_enabled = true` on `awscc_apigateway_stage`); use `aws_api_gateway_stage` rather than `stage_name` on `aws_api_gateway_deployment` |
| CloudFormation | `TracingEnabled: true` on `AWS::ApiGateway::Stage` (`StageDescription.TracingEnabled: true` on a deployment that creates its stage) |
| SAM | `TracingEnabled: true` on `AWS::Serverless::Api`, or `Globals.Api.TracingEnabled: true` (covers the implicit `ServerlessRestApi`) |

To accept an exception, tag the stage `apigw-tracing:exempt=<reason>` (optionally `apigw-tracing:exempt-until=YYYY-MM-DD`).";

const PATH_HELP: &str = "Turn on active tracing for every Lambda function behind a traced stage, authorizers included.
SAM: Tracing: Active on the function, or Globals.Function.Tracing: Active.
CloudFormation: TracingConfig: {Mode: Active} on AWS::Lambda::Function.
Terraform: tracing_config { mode = \"Active\" } on aws_lambda_function.
The function's role needs xray:PutTraceSegments and xray:PutTelemetryRecords (AWSXRayDaemonWriteAccess).";

const SAMPLING_HELP: &str = "Make the X-Ray sampling rule that decides a traced stage's requests record some of them: a reservoir or a fixed rate above 0 (AWS's Default rule: 1 request a second, then 5 %).
A rule with ReservoirSize 0 and FixedRate 0 that matches the stage (ServiceName {api-name}/{stage}, ServiceType AWS::ApiGateway::Stage, or the stage's ResourceARN) leaves it as blind as tracing off.
CloudFormation: SamplingRule.ReservoirSize / FixedRate on AWS::XRay::SamplingRule. Terraform: reservoir_size / fixed_rate on aws_xray_sampling_rule.
A conditional 0/0 rule (a URLPath such as /health) in front of a recording one is a deliberate exclusion and passes.
Only rules defined in the same file or module tree are seen here; apigw-tracing's scan reads the account's.";

fn text(t: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(t.into()).build()
}

/// A fingerprint that stays the same across runs for the same stage, so
/// code scanning updates one alert instead of adding one (FNV-1a, 64 bits:
/// stable across builds and platforms, unlike std's hasher).
/// A Terraform stage is keyed by its address alone, which source and plan
/// share, so the alert is the same whichever of the two CI checks (two
/// root modules with one address share an alert: a plan names no root).
pub fn fingerprint(r: &CheckResult) -> String {
    let terraform = r.is_terraform();
    let mut key = format!(
        "{}\u{1f}{}\u{1f}{}",
        if terraform { "terraform" } else { &r.file },
        r.resource,
        r.stage.as_deref().unwrap_or_default()
    );
    if r.rule != Rule::StageTracing {
        key.push('\u{1f}');
        key.push_str(r.rule.as_str());
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn result(r: &CheckResult) -> Option<SarifResult> {
    let path = r.rule == Rule::TracePath;
    let level = match r.status {
        Verdict::Passed => return None,
        Verdict::Failed if path => ResultLevel::Warning,
        Verdict::Warning => ResultLevel::Warning,
        Verdict::Failed | Verdict::Exempt => ResultLevel::Error,
        Verdict::Unknown => ResultLevel::Note,
    };
    let artifact = ArtifactLocation::builder().uri(uri(&r.file)).build();
    let physical = match r.line {
        Some(line) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(Region::builder().start_line(line as i64).build())
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    let logical = LogicalLocation::builder()
        .fully_qualified_name(r.resource.clone())
        .kind("resource".to_owned())
        .build();
    let location = Location::builder()
        .physical_location(physical)
        .logical_locations(vec![logical])
        .build();
    let stage = r.stage.as_deref().unwrap_or("?");
    let message = format!("{} (stage {stage}): {}", r.resource, r.message);
    let fingerprints = BTreeMap::from([("apigwTracingStage/v1".to_owned(), fingerprint(r))]);
    let (rule_id, rule_index) = match r.rule {
        Rule::StageTracing => (RULE_ID, 0),
        Rule::TracePath => (PATH_RULE_ID, 1),
        Rule::Sampling => (SAMPLING_RULE_ID, 2),
    };
    let base = SarifResult::builder()
        .rule_id(rule_id.to_owned())
        .rule_index(rule_index)
        .level(level)
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints);
    Some(match (&r.status, &r.exemption) {
        (Verdict::Exempt, Some(reason)) => base
            .suppressions(vec![Suppression::builder()
                .kind(serde_json::json!("inSource"))
                .justification(reason.clone())
                .build()])
            .build(),
        _ => base.build(),
    })
}

pub fn to_sarif(c: &Checked) -> Sarif {
    let rule = ReportingDescriptor::builder()
        .id(RULE_ID.to_owned())
        .name("ApiGatewayStageXRayTracing".to_owned())
        .short_description(text("API Gateway REST API stages should have X-Ray active tracing enabled"))
        .full_description(text(
            "A REST API stage without X-Ray active tracing leaves no trace of its requests, so a failure along the request path cannot be followed end to end. The same rule as AWS Security Hub's control APIGateway.3 and as apigw-tracing's runtime scan.",
        ))
        .help(
            MultiformatMessageString::builder()
                .text(HELP_TEXT.to_owned())
                .markdown(HELP_MARKDOWN.to_owned())
                .build(),
        )
        .help_uri(HELP_URI.to_owned())
        .build();
    let path_rule = ReportingDescriptor::builder()
        .id(PATH_RULE_ID.to_owned())
        .name("ApiGatewayTracePath".to_owned())
        .short_description(text("The Lambda functions behind a traced API Gateway stage should have X-Ray active tracing"))
        .full_description(text(
            "A traced stage in front of a function (integration or authorizer) without active tracing gives a trace that stops at the gateway: the service map breaks there. Functions defined in the same template or configuration are checked; Lambda.7 in Security Hub asks for Active on every function.",
        ))
        .help(
            MultiformatMessageString::builder()
                .text(PATH_HELP.to_owned())
                .markdown(PATH_HELP.to_owned())
                .build(),
        )
        .help_uri("https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html".to_owned())
        .build();
    let sampling_rule = ReportingDescriptor::builder()
        .id(SAMPLING_RULE_ID.to_owned())
        .name("ApiGatewaySampling".to_owned())
        .short_description(text("X-Ray sampling rules should record requests to a traced API Gateway stage"))
        .full_description(text(
            "API Gateway records only the requests the account's X-Ray sampling rules select. A matching rule with reservoir 0 and rate 0 leaves a traced stage as blind as tracing off, while every tracing check passes it.",
        ))
        .help(
            MultiformatMessageString::builder()
                .text(SAMPLING_HELP.to_owned())
                .markdown(SAMPLING_HELP.to_owned())
                .build(),
        )
        .help_uri("https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html".to_owned())
        .build();
    let driver = ToolComponent::builder()
        .name("apigw-tracing".to_owned())
        .version(env!("CARGO_PKG_VERSION").to_owned())
        .information_uri("https://github.com/apigw-tracing/apigw-tracing".to_owned())
        .rules(vec![rule, path_rule, sampling_rule])
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(c.results.iter().filter_map(result).collect::<Vec<_>>())
        .build();
    Sarif::builder()
        .version(serde_json::json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json".to_owned())
        .runs(vec![run])
        .build()
}

/// Characters a SARIF `uri` (RFC 3986) may hold as they are in a relative
/// path: unreserved ones and `/`; everything else (spaces, `#`, `%`, `?`,
/// non-ASCII) is percent-encoded, as the SARIF Multitool requires (SARIF1002).
const PATH_SAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// A file's path as a relative URI reference.
pub fn uri(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, PATH_SAFE).to_string()
}
