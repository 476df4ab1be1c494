//! The hook on an `AWS::XRay::SamplingRule`: FAILED (NonCompliant) for a
//! rule that records nothing and takes every request of every REST stage
//! it names (the rule crate's `blinds_stages`, also what the Guard and Rego
//! files say), unless the rule carries an `apigw-tracing:exempt` tag with a
//! reason. What it names cannot be seen from here: a rule whose ServiceName
//! matches no stage of the account still fails, as it would blind one
//! deployed later under that name.

use chrono::NaiveDate;

use crate::check::yaml::Node;
use crate::check::{cfn_sampling_rule, template};
use apigw_tracing_rule::exempt;
use apigw_tracing_rule::sampling::{blinds_stages, Tri};

/// (passes, verdict, message) for one rule resource.
pub fn decide(id: &str, resource: &Node, today: NaiveDate) -> (bool, &'static str, String) {
    let props = resource.get("Properties");
    let rule = cfn_sampling_rule(id, props);
    let named = format!(
        "{id} (AWS::XRay::SamplingRule) {}",
        crate::model::quote(&rule.name)
    );
    match blinds_stages(&rule) {
        Tri::No => (
            true,
            "PASSED",
            format!(
                "{named}: records requests, or takes only some requests or no API Gateway stage"
            ),
        ),
        Tri::Unknown => (
            false,
            "UNKNOWN",
            format!("{named}: a value that decides whether it records is not known; refused, not guessed"),
        ),
        Tri::Yes => {
            let tags = template::key_value_tags(props.and_then(|p| p.get("Tags")));
            let check = exempt::lookup_tags(&tags, today);
            match check.active {
                Some(e) => (
                    true,
                    "EXEMPT",
                    format!(
                        "{named}: records nothing of the stages it takes, exempted by its apigw-tracing:exempt tag: {}",
                        e.reason
                    ),
                ),
                None => {
                    let why = match check.problems.is_empty() {
                        true => String::new(),
                        false => format!(" ({})", check.problems.join("; ")),
                    };
                    (
                        false,
                        "FAILED",
                        format!(
                            "{named}: reservoir 0 and rate 0 for every request of the REST API stages it names: they would be as blind as with tracing off{why}; fix: set ReservoirSize or FixedRate above 0 (AWS's Default: 1 and 0.05), narrow it with URLPath/HTTPMethod/Host, or tag it apigw-tracing:exempt=<reason>"
                        ),
                    )
                }
            }
        }
    }
}
