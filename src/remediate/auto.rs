//! `auto` remediation after a scheduled scan (or a queue batch): the scan
//! hands over the failing stages of the allowed accounts, each with the
//! finding it built, so remediation needs no second inventory and no
//! GetFindings. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::RegionStages;
use crate::asff::Finding;
use crate::config::RemediateScope;
use crate::evaluate::{Evaluation, Status};
use crate::model::{AccountId, AccountRegion};
use crate::report::Summary;

/// The accounts to remediate and, per account, its account-regions with
/// their failing stages. Left out: accounts outside `scope`, and accounts
/// with any error in the scan (an incomplete picture changes nothing).
pub fn auto_plan(
    summary: &Summary,
    failing: Vec<(Evaluation, Finding)>,
    scope: &RemediateScope,
) -> Vec<(AccountId, Vec<RegionStages>)> {
    let troubled: BTreeSet<&AccountId> = summary
        .errors
        .iter()
        .filter_map(|e| e.account.as_ref())
        .collect();
    let mut by_place: BTreeMap<AccountRegion, RegionStages> = BTreeMap::new();
    for (ev, finding) in failing {
        let at = ev.stage.place.account_region();
        if troubled.contains(&at.account)
            || !scope.allows(&at.account)
            || ev.status() != Status::Failing
        {
            continue;
        }
        let region = by_place.entry(at.clone()).or_insert_with(|| RegionStages {
            at,
            evaluations: Vec::new(),
            complete: true,
            errors: Vec::new(),
            findings: Some(Vec::new()),
            estimates: Default::default(),
        });
        region.evaluations.push(ev);
        region.findings.get_or_insert_with(Vec::new).push(finding);
    }
    let mut out: Vec<(AccountId, Vec<RegionStages>)> = Vec::new();
    for (at, region) in by_place {
        match out.last_mut() {
            Some((account, regions)) if *account == at.account => regions.push(region),
            _ => out.push((at.account, vec![region])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::asff::build_finding;
    use crate::model::{Region, StageRef};
    use crate::report::{ErrorEntry, ErrorKind};
    use crate::trigger::Trigger;
    use apigw_tracing_rule::testing::{eval, stage};

    fn at(account: &str, region: &str, api: &str) -> Evaluation {
        let mut s = stage(api, "prod", false);
        s.place = StageRef::new(
            AccountId::parse(account).unwrap(),
            Region::parse(region).unwrap(),
            api,
            "prod",
        );
        eval(s)
    }

    fn pair(ev: Evaluation) -> (Evaluation, Finding) {
        let f = build_finding(
            &ev,
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            None,
        );
        (ev, f)
    }

    #[test]
    fn only_failing_stages_of_allowed_accounts_without_errors_are_planned() {
        let (a, b, c) = ("111111111111", "222222222222", "333333333333");
        let mut summary = Summary::new(Trigger::Cli, false, Utc::now(), None, &[], Vec::new());
        summary.errors.push(ErrorEntry::new(
            ErrorKind::GetStages,
            Some(&AccountId::parse(c).unwrap()),
            None,
            "boom".into(),
        ));
        let mut exempt = at(a, "eu-west-1", "ex1");
        exempt
            .stage
            .tags
            .insert(crate::exempt::TAG_EXEMPT.into(), "r".into());
        let exempt = eval(exempt.stage);
        let failing = vec![
            pair(at(a, "eu-west-1", "api1")),
            pair(at(a, "us-east-1", "api2")),
            pair(at(a, "eu-west-1", "api3")),
            pair(exempt),
            pair(at(b, "eu-west-1", "api4")),
            pair(at(c, "eu-west-1", "api5")),
        ];
        let only = RemediateScope::Only(
            [a, c]
                .iter()
                .map(|x| AccountId::parse(x).unwrap())
                .collect(),
        );
        let plan = auto_plan(&summary, failing.clone(), &only);
        // account -> "region:api,api" per region
        let shape: Vec<(String, Vec<String>)> = plan
            .iter()
            .map(|(account, regions)| {
                let regions = regions
                    .iter()
                    .map(|r| {
                        let apis: Vec<&str> = r
                            .evaluations
                            .iter()
                            .map(|e| e.stage.place.api_id.as_str())
                            .collect();
                        format!("{}:{}", r.at.region, apis.join(","))
                    })
                    .collect();
                (account.to_string(), regions)
            })
            .collect();
        assert_eq!(
            shape,
            [(
                a.to_string(),
                vec![
                    "eu-west-1:api1,api3".to_string(),
                    "us-east-1:api2".to_string()
                ]
            )]
        );
        // Each region carries the scan's findings: no GetFindings needed.
        let eu = &plan[0].1[0];
        assert_eq!(eu.findings.as_ref().map(Vec::len), Some(2));
        assert!(eu.complete);
        let all = auto_plan(&summary, failing, &RemediateScope::All);
        let accounts: Vec<String> = all.iter().map(|(a, _)| a.to_string()).collect();
        assert_eq!(accounts, [a, b], "c had an error");
    }
}
