//! The sampling rule at plan time: a traced stage judged against the X-Ray
//! sampling rules its own file or module tree defines, plus AWS's Default
//! rule, by the rule crate's judge (the scan's). Rules defined elsewhere in
//! the account are not visible here: the scan sees them.

use apigw_tracing_rule::sampling::{judge, Recording, SamplingRule, SamplingStatus, Target};

use super::{CheckResult, Rule, Verdict};

/// What the sampling rule needs of a stage's surroundings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSampling {
    /// The REST API's name when the source gives it literally (`None`:
    /// known only at deploy, as SAM's implicit API, named after the stack).
    pub api_name: Option<String>,
    /// The sampling rules the same file or module tree defines, shared by
    /// every stage of it (one copy, however many stages).
    pub rules: std::rc::Rc<[SamplingRule]>,
}

/// Most sampling rules judged per file or module tree. X-Ray allows 25 per
/// account and region besides Default; a template with thousands is no
/// deployable input, and each rule is matched against every traced stage.
pub const MAX_RULES: usize = 100;

/// The sampling verdict of a stage that traces; `None` for one that does
/// not (its own result says so) or when the file or module tree defines no
/// sampling rule (AWS's Default rule records).
pub fn judge_sampling(s: &StageSampling, stage: &CheckResult) -> Option<CheckResult> {
    if stage.status != Verdict::Passed || s.rules.is_empty() {
        return None;
    }
    let target = Target {
        api_name: s.api_name.as_deref(),
        stage: stage.stage.as_deref(),
        ..Target::default()
    };
    let v = match s.rules.len() {
        n if n > MAX_RULES => apigw_tracing_rule::sampling::SamplingVerdict::unknown(format!(
            "{n} sampling rules are defined, over the {MAX_RULES} check judges (X-Ray allows 25 per account and region)"
        )),
        _ => judge(&target, &s.rules),
    };
    let fix_for = |rule: &SamplingRule| {
        let name = &rule.name;
        if stage.is_terraform() {
            format!("set reservoir_size = 1 and fixed_rate = 0.05 on the aws_xray_sampling_rule named '{name}'")
        } else {
            format!("set SamplingRule.ReservoirSize: 1 and FixedRate: 0.05 on the AWS::XRay::SamplingRule named '{name}'")
        }
    };
    let front = |d: &apigw_tracing_rule::sampling::Decided| {
        let names: Vec<String> = d
            .in_front
            .iter()
            .map(|(r, _)| format!("{} ({})", r.label(), r.conditions()))
            .collect();
        match names.is_empty() {
            true => String::new(),
            false => format!("; in front of it: {}", names.join(", ")),
        }
    };
    let (status, message, fix) = match (&v.status, &v.decided) {
        (SamplingStatus::Unknown, _) | (_, None) => (
            Verdict::Unknown,
            format!(
                "whether the sampling rules record this stage is known only at deploy: {}",
                v.unknown.as_deref().unwrap_or("no rule decides")
            ),
            None,
        ),
        (SamplingStatus::Passed, Some(d)) => (
            Verdict::Passed,
            format!(
                "sampling rule {} decides and records its requests{}",
                d.rule.label(),
                front(d)
            ),
            None,
        ),
        (SamplingStatus::Failed, Some(d)) => {
            let fix = fix_for(&d.rule);
            (
                Verdict::Failed,
                format!(
                    "the stage traces, but sampling rule {} decides its requests and records none: as blind as tracing off{}; fix: {fix}",
                    d.rule.label(),
                    front(d)
                ),
                Some(fix),
            )
        }
        (SamplingStatus::Warning, Some(d)) => {
            let how = match d.recording {
                Recording::BoostOnly => "records them only on anomalies (a rate boost)",
                _ => "records none: only what an earlier conditional rule takes is traced",
            };
            let fix = fix_for(&d.rule);
            (
                Verdict::Warning,
                format!(
                    "the stage is partly seen: sampling rule {} decides its requests and {how}{}; fix: {fix}",
                    d.rule.label(),
                    front(d)
                ),
                Some(fix),
            )
        }
    };
    Some(CheckResult {
        rule: Rule::Sampling,
        status,
        message,
        fix,
        exemption: None,
        functions: Vec::new(),
        ..stage.clone()
    })
}

/// An `aws_xray_sampling_rule` from its attributes, as a plan or the source
/// gives them: `text` and `number` read one (`None`: unset or known only
/// after apply); `address` names it when `rule_name` is not known.
pub fn terraform_rule(
    address: &str,
    text: impl Fn(&str) -> Option<String>,
    number: impl Fn(&str) -> Option<f64>,
    boost: apigw_tracing_rule::sampling::Boost,
    attributes: Option<usize>,
) -> SamplingRule {
    SamplingRule {
        name: text("rule_name").unwrap_or_else(|| address.to_owned()),
        priority: number("priority").map(|p| p as i64),
        reservoir: number("reservoir_size"),
        rate: number("fixed_rate"),
        boost,
        service_name: text("service_name"),
        service_type: text("service_type"),
        resource_arn: text("resource_arn"),
        host: text("host"),
        http_method: text("http_method"),
        url_path: text("url_path"),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{judge, template, yaml, Verdict};
    use apigw_tracing_rule::testing::today;

    /// A traced stage under `n` silent catch-all rules.
    fn verdict(n: usize) -> (Verdict, String) {
        let mut text = String::from("Resources:\n  Api: {Type: AWS::ApiGateway::RestApi, Properties: {Name: a}}\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties: {RestApiId: !Ref Api, StageName: p, TracingEnabled: true}\n");
        for i in 0..n {
            text.push_str(&format!("  R{i}:\n    Type: AWS::XRay::SamplingRule\n    Properties: {{SamplingRule: {{RuleName: r{i}, Priority: {i}, ReservoirSize: 0, FixedRate: 0, ServiceName: '*', ServiceType: '*', ResourceARN: '*', Host: '*', HTTPMethod: '*', URLPath: '*', Version: 1}}}}\n"));
        }
        let doc = yaml::parse(&text).unwrap();
        let mut s = template::stages(&doc).remove(0);
        let sampling = std::mem::take(&mut s.sampling);
        let (r, _) = judge("t.yaml", s, today());
        let v = super::judge_sampling(&sampling, &r).unwrap();
        (v.status, v.message)
    }

    #[test]
    fn rules_past_what_x_ray_allows_are_not_matched_one_by_one() {
        assert_eq!(verdict(super::MAX_RULES).0, Verdict::Failed);
        let (status, message) = verdict(super::MAX_RULES + 1);
        assert_eq!(status, Verdict::Unknown);
        assert!(message.contains("101 sampling rules"), "{message}");
    }
}
