use super::*;
use crate::config::tests::config;

fn ids(v: &[&str]) -> Vec<AccountId> {
    v.iter().map(|a| AccountId::parse(a).unwrap()).collect()
}

fn request(trigger: Trigger, accounts: Option<&[&str]>, regions: Option<&[&str]>) -> ScanRequest {
    ScanRequest {
        accounts: accounts.map(ids),
        regions: regions.map(|r| r.iter().map(|s| Region::parse(s).unwrap()).collect()),
        dry_run: false,
        trigger,
        apis: None,
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";
const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/q";

fn schedule() -> Trigger {
    Trigger::Schedule {
        source: "aws.events".into(),
    }
}

#[test]
fn accounts_come_from_the_scope_the_list_or_the_organization() {
    let org = ids(&[A, B, C]);
    // (settings, trigger, scope, organization, targets, skipped)
    type Case<'a> = (
        &'a [&'a str],
        Trigger,
        Option<&'a [&'a str]>,
        Option<&'a [AccountId]>,
        &'a [&'a str],
        &'a [&'a str],
    );
    let cases: Vec<Case> = vec![
        (&[], schedule(), None, Some(&org), &[A, B, C], &[]),
        (
            &["--accounts", "222222222222,111111111111"],
            Trigger::Cli,
            None,
            None,
            &[B, A],
            &[],
        ),
        (
            &["--exclude-accounts", B],
            schedule(),
            None,
            Some(&org),
            &[A, C],
            &[B],
        ),
        (
            &[],
            Trigger::Manual,
            Some(&[C, C, A]),
            Some(&org),
            &[C, A],
            &[],
        ),
        (
            &["--accounts", "111111111111,222222222222"],
            Trigger::Manual,
            Some(&[B]),
            None,
            &[B],
            &[],
        ),
        (
            &["--exclude-accounts", A],
            Trigger::Manual,
            Some(&[A, B]),
            Some(&org),
            &[B],
            &[A],
        ),
        // A queue message names one account of the planner's: not listed again.
        (&[], Trigger::Queue, Some(&[B]), None, &[B], &[]),
    ];
    for (argv, trigger, scope, org, targets, skipped) in cases {
        let cfg = config(&[&["--regions", "eu-west-1"], argv].concat());
        let req = request(trigger.clone(), scope, None);
        let p = plan(&cfg, &req, None, org).unwrap();
        let got: Vec<&str> = p.targets.iter().map(AccountId::as_str).collect();
        let got_skipped: Vec<&str> = p.skipped.iter().map(|s| s.account.as_str()).collect();
        assert_eq!(
            (got.as_slice(), got_skipped.as_slice()),
            (targets, skipped),
            "{argv:?} {trigger:?} {scope:?}"
        );
    }
}

#[test]
fn a_request_may_only_narrow_the_configuration() {
    let org = ids(&[A, B]);
    let fixed = config(&["--regions", "eu-west-1,us-east-1", "--accounts", A]);
    let from_org = config(&["--regions", "eu-west-1"]);
    let cases: Vec<(&Config, ScanRequest, Option<&[AccountId]>, &str)> = vec![
        (
            &fixed,
            request(Trigger::Manual, Some(&[B]), None),
            None,
            "account 222222222222 is not in the configured accounts",
        ),
        (
            &from_org,
            request(Trigger::Manual, Some(&[C]), None),
            Some(&org),
            "account 333333333333 is not in the organization",
        ),
        (
            &fixed,
            request(Trigger::Manual, None, Some(&["ap-south-1"])),
            None,
            "region ap-south-1 is outside the configured regions (eu-west-1,us-east-1)",
        ),
    ];
    for (cfg, req, org, want) in cases {
        let err = plan(cfg, &req, None, org).unwrap_err().to_string();
        assert!(err.contains(want), "{req:?}: {err}");
    }
    let ok = plan(
        &fixed,
        &request(Trigger::Manual, Some(&[A]), Some(&["us-east-1"])),
        None,
        None,
    )
    .unwrap();
    assert_eq!(ok.regions, ["us-east-1"]);
}

#[test]
fn regions_default_to_the_home_region() {
    let cfg = config(&[]);
    let req = request(Trigger::Cli, None, None);
    assert_eq!(
        regions(&cfg, &req, Some("eu-west-2")).unwrap(),
        ["eu-west-2"]
    );
    assert_eq!(regions(&cfg, &req, None), Err(PlanError::NoRegion));
    assert!(matches!(
        regions(&cfg, &req, Some("mars-1")),
        Err(PlanError::HomeRegion(_))
    ));
}

#[test]
fn only_a_large_lambda_run_with_a_queue_fans_out() {
    let org = ids(&[A, B, C]);
    let queued = config(&[
        "--regions",
        "eu-west-1",
        "--queue-url",
        QUEUE,
        "--fan-out-above",
        "2",
    ]);
    let small = config(&[
        "--regions",
        "eu-west-1",
        "--queue-url",
        QUEUE,
        "--fan-out-above",
        "3",
    ]);
    let no_queue = config(&["--regions", "eu-west-1"]);
    for (cfg, trigger, scope, fans_out) in [
        (&queued, schedule(), None, true),
        (&queued, Trigger::Manual, None, true),
        (&queued, Trigger::Manual, Some(&[A][..]), false),
        (&queued, Trigger::Cli, None, false),
        (&queued, Trigger::Queue, Some(&[A, B, C][..]), false),
        (&small, schedule(), None, false),
        (&no_queue, schedule(), None, false),
    ] {
        let p = plan(
            cfg,
            &request(trigger.clone(), scope, None),
            None,
            Some(&org),
        )
        .unwrap();
        assert_eq!(
            p.fan_out.is_some(),
            fans_out,
            "{trigger:?} {scope:?} {:?}",
            cfg.fan_out.queue_url
        );
    }
    assert!(needs_organization(
        &no_queue,
        &request(Trigger::Manual, Some(&[A]), None)
    ));
    assert!(!needs_organization(
        &no_queue,
        &request(Trigger::Queue, Some(&[A]), None)
    ));
}
