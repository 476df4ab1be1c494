//! `check`: the same rule as the runtime scan, at plan time, on Terraform
//! plans and CloudFormation / SAM / CDK templates. Each stage gets one
//! status: PASSED, FAILED, EXEMPT (a valid `apigw-tracing:exempt` tag) or
//! UNKNOWN (the value is known only at deploy time). Pure but for reading
//! files (`files`); the rule is `evaluate::compliance` and
//! `exempt::lookup_tags`, shared with the scan.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::evaluate::{compliance, Compliance};
use crate::exempt;

mod cfn_sampling;
pub use cfn_sampling::{rule_of as cfn_sampling_rule, SAMPLING_RULE_TYPE};
pub mod files;
mod foreach;
pub mod otel;
pub mod output;
pub mod path;
mod plan_path;
mod plan_sampling;
pub mod sampling;
pub mod sarif;
pub mod serverless;
pub mod template;
pub mod terraform;
pub mod tfsource;
pub mod yaml;
mod yaml_anchors;
mod yaml_tree;

/// What a plan or template says of a stage's tracing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracing {
    On {
        note: Option<String>,
    },
    Off {
        note: Option<String>,
    },
    /// Not known before deploy; why.
    Unknown(String),
}

/// The one-line fix, by the kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    TerraformStage,
    TerraformAwscc,
    TerraformDeployment,
    CloudFormationStage,
    CloudFormationDeployment,
    Sam,
    SamGlobals,
    SamOpenApiVersion,
    ServerlessFramework,
    ServerlessExternalApi,
}

impl Fix {
    pub fn text(self) -> &'static str {
        match self {
            Fix::TerraformStage => "set xray_tracing_enabled = true",
            Fix::TerraformAwscc => "set tracing_enabled = true",
            Fix::TerraformDeployment => {
                "remove stage_name and create the stage with an aws_api_gateway_stage resource that sets xray_tracing_enabled = true"
            }
            Fix::CloudFormationStage => "set TracingEnabled: true",
            Fix::CloudFormationDeployment => {
                "set StageDescription.TracingEnabled: true (or create the stage with an AWS::ApiGateway::Stage that sets TracingEnabled: true)"
            }
            Fix::Sam => "set TracingEnabled: true (on the API or in Globals.Api)",
            Fix::SamGlobals => "set Globals.Api.TracingEnabled: true",
            Fix::SamOpenApiVersion => {
                "set OpenApiVersion (for example '3.0.1') on the API or in Globals.Api, which stops SAM from creating this stage"
            }
            Fix::ServerlessFramework => "set provider.tracing.apiGateway: true",
            Fix::ServerlessExternalApi => {
                "turn tracing on for this stage where the external API is managed (Serverless never updates an external API's stage)"
            }
        }
    }
}

/// One stage a plan or template creates.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStage {
    /// The plan's address, or the template's logical id.
    pub resource: String,
    pub resource_type: String,
    pub stage: Option<String>,
    pub tracing: Tracing,
    pub tags: BTreeMap<String, String>,
    /// Line of the logical id in a template; none for plans.
    pub line: Option<usize>,
    /// How the stage or its setting was found, when that is not obvious.
    pub note: Option<String>,
    pub fix: Fix,
    /// The functions of the same file behind the stage (its trace path).
    pub path: Vec<path::PathFunction>,
    /// Its API's name and the sampling rules of the same file or tree.
    pub sampling: sampling::StageSampling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Failed,
    /// The sampling rule's partly seen (the others never warn).
    Warning,
    Unknown,
    Exempt,
    Passed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Warning => "WARNING",
            Verdict::Exempt => "EXEMPT",
            Verdict::Unknown => "UNKNOWN",
        }
    }
}

/// Which rule a result is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The stage has X-Ray active tracing.
    StageTracing,
    /// The functions behind a traced stage trace too.
    TracePath,
    /// The sampling rules record a traced stage's requests.
    Sampling,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::StageTracing => "stage-tracing",
            Rule::TracePath => "trace-path",
            Rule::Sampling => "sampling",
        }
    }
}

/// One stage's verdict (`--format json` prints these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub rule: Rule,
    pub file: String,
    pub resource: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub stage: Option<String>,
    pub status: Verdict,
    pub line: Option<usize>,
    pub message: String,
    /// For FAILED: the one-line fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// For EXEMPT: the exemption's reason (SARIF's justification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<String>,
    /// For the trace path: the functions behind the stage.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<path::PathFunction>,
}

impl CheckResult {
    /// Whether the result is of Terraform (plan or source): its resource
    /// type is a Terraform type (`aws_...`, `awscc_...`), not a
    /// CloudFormation one (`AWS::...`).
    pub fn is_terraform(&self) -> bool {
        self.resource_type.starts_with("aws_") || self.resource_type.starts_with("awscc_")
    }
}

/// Judges one planned stage by the runtime's rule.
pub fn judge(file: &str, s: PlannedStage, today: NaiveDate) -> (CheckResult, Vec<String>) {
    let mut warnings = Vec::new();
    let (status, mut message, fix, exemption) = match &s.tracing {
        Tracing::Unknown(why) => (
            Verdict::Unknown,
            format!("X-Ray tracing cannot be known before deploy: {why}"),
            None,
            None,
        ),
        Tracing::On { note } | Tracing::Off { note } => {
            let on = matches!(s.tracing, Tracing::On { .. });
            let suffix = note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            match compliance(on) {
                // The stage rule never warns.
                Compliance::Passed | Compliance::Warning => (
                    Verdict::Passed,
                    format!("X-Ray tracing is on{suffix}"),
                    None,
                    None,
                ),
                Compliance::Failed => {
                    let check = exempt::lookup_tags(&s.tags, today);
                    warnings.extend(
                        check
                            .problems
                            .iter()
                            .map(|p| format!("{file}: {}: {p}", s.resource)),
                    );
                    match check.active {
                        Some(e) => (
                            Verdict::Exempt,
                            format!("X-Ray tracing is off, exempted: {}{suffix}", e.reason),
                            None,
                            Some(e.reason),
                        ),
                        None => {
                            let lapsed = check
                                .lapsed
                                .map(|e| {
                                    format!(
                                        "; its exemption lapsed ({})",
                                        e.until.map(|d| d.to_string()).unwrap_or_default()
                                    )
                                })
                                .unwrap_or_default();
                            (
                                Verdict::Failed,
                                format!("X-Ray tracing is off (false or unset){suffix}{lapsed}; fix: {}", s.fix.text()),
                                Some(s.fix.text().to_owned()),
                                None,
                            )
                        }
                    }
                }
            }
        }
    };
    if let Some(note) = &s.note {
        message = format!("{message}. Note: {note}");
    }
    let result = CheckResult {
        rule: Rule::StageTracing,
        file: file.to_owned(),
        resource: s.resource,
        resource_type: s.resource_type,
        stage: s.stage,
        status,
        line: s.line,
        message,
        fix,
        exemption,
        functions: Vec::new(),
    };
    (result, warnings)
}

/// The trace path of a stage that traces: PASSED when every function of
/// the file behind it has active tracing, FAILED naming those that do not,
/// UNKNOWN when a mode is computed at deploy time. None for a stage that
/// does not trace (its own result says so) or with no function in the file.
pub fn judge_path(functions: Vec<path::PathFunction>, stage: &CheckResult) -> Option<CheckResult> {
    if stage.status != Verdict::Passed || functions.is_empty() {
        return None;
    }
    let off: Vec<String> = functions
        .iter()
        .filter(|f| matches!(f.tracing, Tracing::Off { .. }))
        .map(|f| {
            let role = if f.authorizer { "authorizer, " } else { "" };
            format!("{} ({role}{})", f.name, f.mode)
        })
        .collect();
    let unknown = functions
        .iter()
        .any(|f| matches!(f.tracing, Tracing::Unknown(_)));
    let terraform = stage.is_terraform();
    let fix = if terraform {
        "set tracing_config { mode = \"Active\" } on each function"
    } else {
        "set Tracing: Active on each function (SAM; or Globals.Function.Tracing: Active), TracingConfig.Mode: Active on an AWS::Lambda::Function"
    };
    let n = functions.len();
    let (status, message, fix) = if !off.is_empty() {
        (
            Verdict::Failed,
            format!(
                "the stage traces, but {} of the {n} function(s) behind it do not have active tracing: {}; the service map breaks there; fix: {fix}",
                off.len(),
                off.join(", ")
            ),
            Some(fix.to_owned()),
        )
    } else if unknown {
        (
            Verdict::Unknown,
            format!("a function's tracing mode behind this stage is known only at deploy time ({n} function(s))"),
            None,
        )
    } else {
        (
            Verdict::Passed,
            format!("the stage and the {n} function(s) behind it have active tracing"),
            None,
        )
    };
    // OpenTelemetry: notes, not the verdict (AWS's guides still ask for
    // Active with the ADOT layer).
    let notes: Vec<String> = functions
        .iter()
        .filter_map(|f| f.otel.note(&f.name))
        .collect();
    let message = match notes.is_empty() {
        true => message,
        false => format!("{message}; {}", notes.join("; ")),
    };
    Some(CheckResult {
        rule: Rule::TracePath,
        status,
        message,
        fix,
        exemption: None,
        functions,
        ..stage.clone()
    })
}

/// Counts for the summary line and `--format json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    pub files: usize,
    /// Files in a directory walk that are neither a plan nor a template, do
    /// not parse, or cannot be read (and unreadable directories).
    pub skipped: usize,
    /// The skipped files that are not simply other kinds of file: what could
    /// not be read, parsed or walked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_paths: Vec<SkippedPath>,
    pub stages: usize,
    pub passed: usize,
    pub failed: usize,
    pub exempt: usize,
    pub unknown: usize,
    /// Trace paths judged (traced stages with functions of the same file
    /// behind them), and how many fail or are unknown. They are reported,
    /// and do not change the exit status.
    pub paths: usize,
    pub paths_failed: usize,
    pub paths_unknown: usize,
    /// Sampling verdicts (traced stages of a file or module tree that
    /// defines sampling rules), and how many are blind, partly seen or
    /// unknown.
    pub sampling: usize,
    pub sampling_failed: usize,
    pub sampling_warning: usize,
    pub sampling_unknown: usize,
    pub warnings: Vec<String>,
}

/// A path a walk could not use, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SkippedPath {
    pub path: String,
    pub reason: String,
}

impl CheckSummary {
    pub fn count(&mut self, results: &[CheckResult]) {
        for r in results.iter().filter(|r| r.rule == Rule::Sampling) {
            self.sampling += 1;
            match r.status {
                Verdict::Failed => self.sampling_failed += 1,
                Verdict::Warning => self.sampling_warning += 1,
                Verdict::Unknown => self.sampling_unknown += 1,
                _ => {}
            }
        }
        for r in results.iter().filter(|r| r.rule == Rule::TracePath) {
            self.paths += 1;
            match r.status {
                Verdict::Failed => self.paths_failed += 1,
                Verdict::Unknown => self.paths_unknown += 1,
                _ => {}
            }
        }
        let stages: Vec<&CheckResult> = results
            .iter()
            .filter(|r| r.rule == Rule::StageTracing)
            .collect();
        self.stages = stages.len();
        for r in stages {
            match r.status {
                Verdict::Passed => self.passed += 1,
                Verdict::Failed => self.failed += 1,
                Verdict::Exempt => self.exempt += 1,
                Verdict::Unknown => self.unknown += 1,
                // The stage rule never warns.
                Verdict::Warning => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;
