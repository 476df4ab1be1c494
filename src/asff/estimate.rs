//! A FAILED stage finding priced (`scan --cost on`): the person looking at
//! it in Security Hub sees what the fix would cost. Pure.

use super::{Compliance, Finding, RecordState, FIELD_PREFIX, GENERATOR_ID};
use crate::cost::Estimate;
use crate::model::cut_to;

/// Adds `e` to `f` when `f` is an ACTIVE FAILED stage finding: its
/// `ProductFields` (`EstimatedTracesPerMonth`, `EstimatedUsdPerMonth`, as
/// `low-high`) and its remediation text (within ASFF's 512 characters).
pub fn price(f: &mut Finding, e: &Estimate) {
    if f.generator_id != GENERATOR_ID
        || f.compliance.status != Compliance::Failed
        || f.record_state != RecordState::Active
    {
        return;
    }
    let traces = e.traces_per_month.map_or("unknown".into(), |t| t.shown(0));
    let usd = e.usd_per_month.map_or("n/a".into(), |u| u.shown(2));
    f.product_fields
        .insert(format!("{FIELD_PREFIX}EstimatedTracesPerMonth"), traces);
    f.product_fields
        .insert(format!("{FIELD_PREFIX}EstimatedUsdPerMonth"), usd);
    let text = &mut f.remediation.recommendation.text;
    *text = cut_to(
        &format!(
            "{text} Once traced: about {} under sampling rule '{}' ({} days of traffic; apigw-tracing remediate shows the notes).",
            e.summary(),
            cut_to(&e.rule, 64),
            e.window_days
        ),
        512,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{estimate, Destination, Prices, Traffic};
    use crate::sampling::SamplingRule;
    use apigw_tracing_rule::testing::{eval, stage};

    #[test]
    fn a_failed_finding_carries_the_price_of_its_fix_and_stays_valid() {
        let ev = eval(stage("api1", "prod", false));
        let mut f = super::super::build_finding(&ev, chrono::Utc::now(), None);
        let t = Traffic::Counted {
            requests: 1_209_600.0,
            seconds: 1_209_600.0,
        };
        let e = estimate(
            &t,
            &SamplingRule::aws_default(),
            Destination::XRay,
            &Prices::default(),
            vec![],
        );
        price(&mut f, &e);
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}EstimatedTracesPerMonth")],
            "129600-2592000"
        );
        assert_eq!(
            f.product_fields[&format!("{FIELD_PREFIX}EstimatedUsdPerMonth")],
            "0.65-12.96"
        );
        assert!(f
            .remediation
            .recommendation
            .text
            .contains("Once traced: about 129600-2592000 traces/month"));
        assert!(
            super::super::validate(&f).is_ok(),
            "{:?}",
            super::super::validate(&f)
        );
        // A passing stage's finding is not priced.
        let mut passed = super::super::build_finding(
            &eval(stage("api1", "dev", true)),
            chrono::Utc::now(),
            None,
        );
        price(&mut passed, &e);
        assert!(!passed
            .product_fields
            .contains_key(&format!("{FIELD_PREFIX}EstimatedUsdPerMonth")));
    }
}
