use std::collections::BTreeMap;

use apigw_tracing::report::RunStatus;
use apigw_tracing::scan::{self, ScanOptions};
use apigw_tracing::trigger::ScanRequest;

use crate::support::*;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// Management + 2 members over 2 regions, with tracing on, off and unset,
/// and an API with no stages. Returns (account, region) -> expected
/// (stage ARN suffix -> compliance).
async fn seed(
    moto: &Moto,
) -> (
    Vec<String>,
    BTreeMap<(String, String), BTreeMap<String, &'static str>>,
) {
    let members = create_org(moto, 2).await;
    let mut accounts = vec![MANAGEMENT.to_owned()];
    accounts.extend(members.iter().cloned());
    let mut expected = BTreeMap::new();
    for (i, account) in accounts.iter().enumerate() {
        for region in REGIONS {
            let cfg = moto.account_config(account, region).await;
            enable_security_hub(&cfg).await;
            let mut want = BTreeMap::new();
            let a = create_api(
                &cfg,
                &format!("orders-{i}"),
                &[("prod", Some(true)), ("dev", None)],
            )
            .await;
            want.insert(format!("/restapis/{a}/stages/prod"), "PASSED");
            want.insert(format!("/restapis/{a}/stages/dev"), "FAILED");
            let b = create_api(&cfg, &format!("billing-{i}"), &[("live", Some(false))]).await;
            want.insert(format!("/restapis/{b}/stages/live"), "FAILED");
            create_api(&cfg, "no-stages", &[]).await;
            expected.insert((account.clone(), region.to_owned()), want);
        }
    }
    (accounts, expected)
}

#[tokio::test]
async fn every_stage_gets_one_finding_in_its_own_accounts_security_hub() {
    let moto = Moto::start();
    let (accounts, expected) = seed(&moto).await;
    let out = scan_with(
        &moto,
        &["--regions", "eu-west-1,us-east-1", "--apigw-rps", "50"],
    )
    .await;
    let s = &out.summary;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    assert_eq!(s.totals.accounts, 3);
    assert_eq!(s.totals.account_regions, 6);
    assert_eq!(
        s.totals.apis, 18,
        "3 APIs per account-region, one without stages"
    );
    assert_eq!(
        (s.totals.stages, s.totals.failing, s.totals.passing),
        (18, 12, 6)
    );
    // 18 stage findings, 6 sampling findings (one per traced stage).
    assert_eq!((s.totals.findings_imported, s.totals.sampling), (24, 6));
    // One AssumeRole per member account, none for the scanner's own.
    assert_eq!(s.requests["STS.AssumeRole"].calls, 2);
    assert_eq!(s.requests["APIGateway.GetRestApis"].calls, 6);
    assert_eq!(s.requests["APIGateway.GetStages"].calls, 18);
    assert_eq!(s.requests["SecurityHub.BatchImportFindings"].calls, 6);

    for account in &accounts {
        for region in REGIONS {
            let all = findings(&moto, account, region).await;
            // One sampling finding per traced stage, PASSED under AWS's
            // Default rule; the rest are the stage rule's.
            let (sampled, landed): (Vec<Landed>, Vec<Landed>) = all
                .into_iter()
                .partition(|f| f.generator_id == "apigw-tracing/sampling");
            assert_eq!(sampled.len(), 1, "{account} {region}: {sampled:#?}");
            assert_eq!(sampled[0].compliance, "PASSED");
            let want = &expected[&(account.clone(), region.to_owned())];
            assert_eq!(landed.len(), want.len(), "{account} {region}: {landed:#?}");
            for f in &landed {
                assert_eq!(f.account, *account);
                assert_eq!(f.region, region);
                assert_eq!(
                    f.product_arn,
                    format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
                );
                assert_eq!(f.generator_id, "apigw-tracing/xray-active-tracing");
                assert_eq!(f.record_state, "ACTIVE");
                let suffix = f.resource_id.split("::").nth(1).unwrap();
                assert_eq!(
                    f.resource_id,
                    format!("arn:aws:apigateway:{region}::{suffix}")
                );
                assert_eq!(f.compliance, want[suffix], "{f:?}");
                assert_eq!(
                    f.severity,
                    if f.compliance == "FAILED" {
                        "LOW"
                    } else {
                        "INFORMATIONAL"
                    }
                );
            }
        }
    }
}

#[tokio::test]
async fn more_than_100_stages_in_one_account_region_are_sent_in_batches() {
    let moto = Moto::start();
    let cfg_mgmt = moto.account_config(MANAGEMENT, "eu-west-1").await;
    for i in 0..61 {
        create_api(
            &cfg_mgmt,
            &format!("api-{i}"),
            &[("prod", None), ("dev", Some(true))],
        )
        .await;
    }
    let out = scan_with(
        &moto,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            "eu-west-1",
            "--apigw-rps",
            "200",
        ],
    )
    .await;
    let s = &out.summary;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    // 122 stage findings and 61 sampling findings.
    assert_eq!((s.totals.stages, s.totals.findings_imported), (122, 183));
    // moto accepts any batch size, so the batch count proves our own limit.
    assert_eq!(s.requests["SecurityHub.BatchImportFindings"].calls, 2);
    assert_eq!(s.requests["APIGateway.GetStages"].calls, 61);
    let landed = findings(&moto, MANAGEMENT, "eu-west-1").await;
    assert_eq!(landed.len(), 183);
    assert_eq!(
        landed.iter().filter(|f| f.compliance == "FAILED").count(),
        61
    );
}

#[tokio::test]
async fn each_member_role_is_assumed_once_whatever_the_number_of_regions() {
    let moto = Moto::start();
    let members = create_org(&moto, 2).await;
    let regions = "eu-west-1,us-east-1,us-west-2,ap-south-1,eu-central-1,sa-east-1";
    let out = scan_with(
        &moto,
        &[
            "--regions",
            regions,
            "--accounts",
            &members.join(","),
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(out.summary.totals.account_regions, 12);
    assert_eq!(
        out.summary.requests["STS.AssumeRole"].calls, 2,
        "{:?}",
        out.summary.requests
    );
}

#[tokio::test]
async fn dry_run_builds_findings_but_sends_none() {
    let moto = Moto::start();
    let (accounts, _) = seed(&moto).await;
    let cfg = config(&[
        "--regions",
        "eu-west-1,us-east-1",
        "--dry-run",
        "--apigw-rps",
        "50",
    ]);
    let env = moto.env(&cfg).await;
    let opts = ScanOptions {
        collect_findings: true,
        ..ScanOptions::default()
    };
    let out = scan::run(&env, &cfg, &ScanRequest::default(), opts)
        .await
        .unwrap();
    assert!(out.summary.dry_run);
    assert_eq!(out.summary.status, RunStatus::Complete);
    assert_eq!(out.summary.totals.stages, 18);
    assert_eq!(out.summary.totals.findings_imported, 0);
    assert_eq!(out.findings.len(), 24, "the findings that would be sent");
    assert!(!out
        .summary
        .requests
        .contains_key("SecurityHub.BatchImportFindings"));
    for f in &out.findings {
        apigw_tracing::asff::validate(f).unwrap();
    }
    for account in &accounts {
        for region in REGIONS {
            assert!(findings(&moto, account, region).await.is_empty());
        }
    }
}

#[tokio::test]
async fn excluded_accounts_are_skipped_and_reported() {
    let moto = Moto::start();
    let (accounts, _) = seed(&moto).await;
    let excluded = accounts[1].clone();
    let out = scan_with(
        &moto,
        &[
            "--regions",
            "eu-west-1",
            "--exclude-accounts",
            &excluded,
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(out.summary.totals.accounts, 2);
    assert_eq!(out.summary.skipped.len(), 1);
    assert_eq!(out.summary.skipped[0].account, excluded);
    assert!(findings(&moto, &excluded, "eu-west-1").await.is_empty());
    assert_eq!(findings(&moto, &accounts[2], "eu-west-1").await.len(), 4);
}
