//! Whether the X-Ray sampling rules record anything of a traced stage. Pure:
//! the scan reads the account-region's rules (`GetSamplingRules`), the gate
//! reads them from templates and plans; both judge here.
//!
//! API Gateway asks X-Ray's sampling rules which requests to record. The
//! rules are tried in ascending `Priority` (ties by rule name, as X-Ray's
//! samplers sort them); the first that matches decides. A rule matches a
//! stage on `ServiceName` (`{api-name}/{stage}`), `ServiceType`
//! (`AWS::ApiGateway::Stage`) and `ResourceARN` (either documented form), and
//! a request on `Host`, `HTTPMethod`, `URLPath` and `Attributes`; `*` and
//! `?` are wildcards, matched without regard to case as X-Ray's SDKs do. A
//! rule with reservoir 0 and rate 0 records nothing.

use serde::Serialize;

mod matcher;
mod verdict;
pub use matcher::{glob, Target, Tri};
pub use verdict::{judge, Decided, SamplingVerdict};

/// AWS's `Default` rule, as every account-region starts with it: the last
/// resort at priority 10000, one request a second and 5 % of the rest.
pub const DEFAULT_RULE: &str = "Default";
pub const DEFAULT_PRIORITY: i64 = 10_000;
pub const DEFAULT_RESERVOIR: f64 = 1.0;
pub const DEFAULT_RATE: f64 = 0.05;
/// What API Gateway calls itself in a rule's `ServiceType`.
pub const SERVICE_TYPE: &str = "AWS::ApiGateway::Stage";

/// A rule's `SamplingRateBoost`: X-Ray raises the rate up to `MaxRate` on
/// anomalies only, so a rule that records only through it is partly blind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Boost {
    None,
    MaxRate(f64),
    /// Written, but its value is not known before deploy.
    Unknown,
}

/// One sampling rule. A field that is `None` is not known before deploy
/// (an intrinsic function, a Terraform unknown); the scan knows them all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingRule {
    pub name: String,
    pub priority: Option<i64>,
    /// Requests a second recorded before the rate applies.
    pub reservoir: Option<f64>,
    /// The share of the remaining requests recorded, 0 to 1.
    pub rate: Option<f64>,
    pub boost: Boost,
    pub service_name: Option<String>,
    pub service_type: Option<String>,
    pub resource_arn: Option<String>,
    pub host: Option<String>,
    pub http_method: Option<String>,
    pub url_path: Option<String>,
    /// How many `Attributes` it requires; `None`: not known before deploy.
    pub attributes: Option<usize>,
}

impl SamplingRule {
    /// AWS's Default rule as created with every account-region.
    pub fn aws_default() -> Self {
        Self {
            name: DEFAULT_RULE.into(),
            priority: Some(DEFAULT_PRIORITY),
            reservoir: Some(DEFAULT_RESERVOIR),
            rate: Some(DEFAULT_RATE),
            boost: Boost::None,
            service_name: Some("*".into()),
            service_type: Some("*".into()),
            resource_arn: Some("*".into()),
            host: Some("*".into()),
            http_method: Some("*".into()),
            url_path: Some("*".into()),
            attributes: Some(0),
        }
    }

    /// What it records: `None` when its values are not known.
    pub fn recording(&self) -> Option<Recording> {
        match (self.reservoir, self.rate) {
            (Some(r), _) if r > 0.0 => Some(Recording::Records),
            (_, Some(f)) if f > 0.0 => Some(Recording::Records),
            (Some(_), Some(_)) => match self.boost {
                Boost::None => Some(Recording::Nothing),
                Boost::MaxRate(m) if m > 0.0 => Some(Recording::BoostOnly),
                Boost::MaxRate(_) => Some(Recording::Nothing),
                Boost::Unknown => None,
            },
            _ => None,
        }
    }

    /// `Host`, `HTTPMethod` and `URLPath` all `*` and no `Attributes`: it
    /// takes every request of a stage it matches.
    pub fn unconditional(&self) -> Tri {
        let any = |p: &Option<String>| match p {
            Some(p) if is_any(p) => Tri::Yes,
            Some(_) => Tri::No,
            None => Tri::Unknown,
        };
        let attributes = match self.attributes {
            Some(0) => Tri::Yes,
            Some(_) => Tri::No,
            None => Tri::Unknown,
        };
        any(&self.host)
            .and(any(&self.http_method))
            .and(any(&self.url_path))
            .and(attributes)
    }

    /// The request conditions it sets (`URLPath /health`), for messages.
    pub fn conditions(&self) -> String {
        let mut out = Vec::new();
        for (k, v) in [
            ("Host", &self.host),
            ("HTTPMethod", &self.http_method),
            ("URLPath", &self.url_path),
        ] {
            match v {
                Some(p) if is_any(p) => {}
                Some(p) => out.push(format!("{k} {p}")),
                None => out.push(format!("{k} (unknown)")),
            }
        }
        match self.attributes {
            Some(0) => {}
            Some(n) => out.push(format!("{n} attribute(s)")),
            None => out.push("Attributes (unknown)".into()),
        }
        out.join(", ")
    }

    /// `'name' (priority P, reservoir R/s, rate F)`.
    pub fn label(&self) -> String {
        let num = |v: Option<f64>| v.map_or("unknown".to_owned(), |v| format!("{v}"));
        let boost = match self.boost {
            Boost::MaxRate(m) => format!(", boost up to {m}"),
            Boost::Unknown => ", boost unknown".into(),
            Boost::None => String::new(),
        };
        format!(
            "'{}' (priority {}, reservoir {}/s, rate {}{boost})",
            crate::model::cut(&self.name),
            self.priority
                .map_or("unknown".to_owned(), |p| p.to_string()),
            num(self.reservoir),
            num(self.rate),
        )
    }
}

/// The `ServiceType`s that take API Gateway stages, as the deploy-time
/// rule (hook, Guard, Rego) reads them: written exactly so.
pub const STAGE_SERVICE_TYPES: [&str; 3] = ["*", "AWS::ApiGateway::*", SERVICE_TYPE];

/// The deploy-time rule for one sampling rule on its own (the
/// CloudFormation hook, and the Guard and Rego files): it blinds every REST
/// stage it names when it records nothing, takes API Gateway stages
/// (`ServiceType` one of [`STAGE_SERVICE_TYPES`]) and takes every request
/// of them (unconditional). `Unknown` when a value is computed.
pub fn blinds_stages(rule: &SamplingRule) -> Tri {
    let silent = match rule.recording() {
        Some(Recording::Nothing) => Tri::Yes,
        Some(_) => Tri::No,
        None => Tri::Unknown,
    };
    let stages = match rule.service_type.as_deref() {
        Some(t) if STAGE_SERVICE_TYPES.contains(&t) => Tri::Yes,
        Some(_) => Tri::No,
        None => Tri::Unknown,
    };
    silent.and(stages).and(rule.unconditional())
}

/// A pattern of only `*`: matches anything.
pub fn is_any(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| c == '*')
}

/// What a rule records of the requests it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recording {
    /// A reservoir or a rate above 0.
    Records,
    /// Reservoir and rate 0, a boost above 0: only on anomalies.
    BoostOnly,
    /// Reservoir 0, rate 0, no boost.
    Nothing,
}

/// A traced stage's sampling verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SamplingStatus {
    /// The deciding rule records requests.
    Passed,
    /// Partly seen: only some requests (an earlier conditional rule), or
    /// only on anomalies (a boost).
    Warning,
    /// Blind: nothing is recorded.
    Failed,
    /// The rules could not be read, or not known before deploy.
    Unknown,
}

impl SamplingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SamplingStatus::Passed => "PASSED",
            SamplingStatus::Warning => "WARNING",
            SamplingStatus::Failed => "FAILED",
            SamplingStatus::Unknown => "UNKNOWN",
        }
    }
}

/// Requests matched and sampled under one rule in X-Ray's recent 10 s
/// windows (`GetSamplingStatisticSummaries`), summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleStats {
    pub requests: i64,
    pub sampled: i64,
}

/// A traced stage with its sampling verdict (the scan's).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingEvaluation {
    pub stage: crate::model::StageRecord,
    pub verdict: SamplingVerdict,
    /// The deciding rule's recent statistics, when it matched requests and
    /// sampled none: evidence, not the verdict.
    pub evidence: Option<String>,
}

/// Judges one traced stage of the scan against its account-region's rules
/// (all of them, as `GetSamplingRules` gives them) and their statistics.
pub fn evaluate(
    stage: crate::model::StageRecord,
    rules: &[SamplingRule],
    stats: &std::collections::BTreeMap<String, RuleStats>,
) -> SamplingEvaluation {
    let p = &stage.place;
    let target = Target {
        api_name: stage.api_name.as_deref(),
        stage: Some(&p.stage),
        api_id: Some(&p.api_id),
        account: Some(p.account.as_str()),
        region: Some(p.region.as_str()),
        partition: Some(p.partition().as_str()),
    };
    let verdict = judge(&target, rules);
    let evidence = verdict.decided.as_ref().and_then(|d| {
        let s = stats.get(&d.rule.name)?;
        (s.requests > 0 && s.sampled == 0).then(|| {
            format!(
                "X-Ray's statistics: rule '{}' matched {} request(s) in its recent 10-second \
                 windows and sampled none",
                crate::model::cut(&d.rule.name),
                s.requests
            )
        })
    });
    SamplingEvaluation {
        stage,
        verdict,
        evidence,
    }
}

/// The `aws xray update-sampling-rule` command that makes `rule` record:
/// the Default rule's values (1 request a second, then 5 %).
pub fn fix_command(rule: &str, region: &str) -> String {
    // Written out, not a `json!` map: its key order depends on features
    // other packages turn on (`preserve_order`).
    let name = serde_json::Value::from(rule).to_string();
    let update = format!(r#"{{"RuleName":{name},"ReservoirSize":1,"FixedRate":{DEFAULT_RATE}}}"#);
    format!(
        "aws xray update-sampling-rule --region {} --sampling-rule-update {}",
        crate::model::shell_word(region),
        crate::model::shell_word(&update.to_string())
    )
}

#[cfg(test)]
mod tests;
