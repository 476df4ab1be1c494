//! The finding lifecycle: resolve, archive, exempt; never lose or
//! duplicate a finding; never archive after a partial inventory.

use std::collections::{BTreeMap, BTreeSet};

use apigw_tracing::report::{ErrorKind, RunStatus, Summary};

use crate::harness::*;
use crate::proxy::{assume_role_in, get_stages_of, Fault, FaultProxy};
use crate::support::*;

const R: &str = "eu-west-1";

fn by_stage(landed: &[Landed]) -> BTreeMap<String, Landed> {
    let map: BTreeMap<String, Landed> = landed.iter().map(|f| (f.stage(), f.clone())).collect();
    assert_eq!(
        map.len(),
        landed.len(),
        "one finding per stage, no duplicates: {landed:#?}"
    );
    let ids: BTreeSet<&str> = landed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), landed.len(), "duplicate finding ids");
    map
}

fn row<'a>(s: &'a Summary, account: &str) -> &'a apigw_tracing::report::RegionResult {
    s.results
        .iter()
        .find(|r| r.account == account)
        .unwrap_or_else(|| panic!("no row for {account}: {}", s.render_table()))
}

#[tokio::test]
async fn fix_delete_add_exempt_and_a_failed_account_left_untouched() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 2).await;
    let (m1, m2) = (members[0].clone(), members[1].clone());
    let c1 = moto.account_config(&m1, R).await;
    let c2 = moto.account_config(&m2, R).await;
    let a = create_api(
        &c1,
        "a",
        &[("prod", Some(false)), ("dev", None), ("qa", Some(true))],
    )
    .await;
    let b = create_api(&c1, "b", &[("live", None)]).await;
    let c = create_api(&c1, "c", &[("main", None), ("side", None)]).await;
    let e = create_api(&c2, "e", &[("prod", None)]).await;
    let args = [
        "--regions",
        R,
        "--accounts",
        &format!("{m1},{m2}"),
        "--sampling",
        "off",
        "--apigw-rps",
        "200",
        "--securityhub-rps",
        "200",
    ];

    let first = scan_via(&moto, &proxy, &args).await;
    assert_eq!(
        first.status,
        RunStatus::Complete,
        "{}",
        first.render_table()
    );
    assert_eq!(
        (
            first.totals.stages,
            first.totals.failing,
            first.totals.passing
        ),
        (7, 6, 1)
    );
    let before1 = by_stage(&findings(&moto, &m1, R).await);
    let before2 = findings(&moto, &m2, R).await;
    assert_eq!(before1.len(), 6);
    assert!(before1.values().all(|f| f.record_state == "ACTIVE"));

    // Fix a/prod, delete a/dev and API b, add a/new, exempt c/main, exempt
    // c/side with an expiry in the past; in m2 delete e/prod while its role
    // cannot be assumed.
    set_tracing(&c1, &a, "prod", true).await;
    delete_stage(&c1, &a, "dev").await;
    delete_api(&c1, &b).await;
    put_stage(&c1, &a, "new", false, &[]).await;
    put_stage(
        &c1,
        &c,
        "main",
        false,
        &[("apigw-tracing:exempt", "vendor gateway, no tracing")],
    )
    .await;
    put_stage(
        &c1,
        &c,
        "side",
        false,
        &[
            ("apigw-tracing:exempt", "temporary"),
            ("apigw-tracing:exempt-until", "2020-01-31"),
        ],
    )
    .await;
    delete_stage(&c2, &e, "prod").await;
    let denied = proxy.add(assume_role_in(&m2), Fault::sts_access_denied(), None);

    let second = scan_via(&moto, &proxy, &args).await;
    assert!(proxy.hits(denied) >= 1);
    assert_eq!(second.status, RunStatus::Partial);
    match &second.errors[..] {
        [err] => {
            assert_eq!(
                (
                    err.kind.clone(),
                    err.account.as_ref().map_or("", |a| a.as_str()),
                    err.code.as_deref()
                ),
                (ErrorKind::AssumeRole, m2.as_str(), Some("AccessDenied"))
            );
            assert!(err.message.contains("cannot assume"), "{}", err.message);
        }
        other => panic!("{other:#?}"),
    }
    let r1 = row(&second, &m1);
    assert_eq!(
        (r1.failing, r1.passing, r1.exempt, r1.archived),
        (2, 2, 1, 2),
        "{}",
        second.render_table()
    );

    let after1 = by_stage(&findings(&moto, &m1, R).await);
    let state = |k: &str| {
        let f = &after1[k];
        (f.compliance.as_str(), f.record_state.as_str())
    };
    assert_eq!(after1.len(), 7, "6 before + a/new");
    assert_eq!(state(&format!("{a}/prod")), ("PASSED", "ACTIVE"));
    assert_eq!(state(&format!("{a}/qa")), ("PASSED", "ACTIVE"));
    assert_eq!(state(&format!("{a}/dev")), ("FAILED", "ARCHIVED"));
    assert_eq!(state(&format!("{b}/live")), ("FAILED", "ARCHIVED"));
    assert_eq!(state(&format!("{a}/new")), ("FAILED", "ACTIVE"));
    assert_eq!(state(&format!("{c}/main")), ("FAILED", "ARCHIVED"));
    assert_eq!(state(&format!("{c}/side")), ("FAILED", "ACTIVE"));
    let main = &after1[&format!("{c}/main")];
    assert_eq!(
        main.product_fields["apigw-tracing/scanner/ExemptionReason"],
        "vendor gateway, no tracing"
    );
    assert!(main.description.contains("vendor gateway, no tracing"));
    assert_eq!(
        after1[&format!("{c}/side")].product_fields["apigw-tracing/scanner/ExemptionLapsed"],
        "2020-01-31"
    );
    for (stage, old) in &before1 {
        let new = &after1[stage];
        assert_eq!(new.id, old.id);
        assert_eq!(
            new.created_at, old.created_at,
            "CreatedAt of {stage} survives"
        );
        assert!(new.updated_at > old.updated_at, "{stage} was refreshed");
    }
    // The account whose role could not be assumed: exactly as it was.
    assert_eq!(findings(&moto, &m2, R).await, before2);

    // The fault is gone: the rerun converges, and is idempotent.
    proxy.clear();
    let third = scan_via(&moto, &proxy, &args).await;
    assert_eq!(
        third.status,
        RunStatus::Complete,
        "{}",
        third.render_table()
    );
    let e_prod = &findings(&moto, &m2, R).await[0];
    assert_eq!(
        (e_prod.stage(), e_prod.record_state.as_str()),
        (format!("{e}/prod"), "ARCHIVED")
    );
    let fourth = scan_via(&moto, &proxy, &args).await;
    let again = by_stage(&findings(&moto, &m1, R).await);
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        after1.keys().collect::<Vec<_>>()
    );
    for (k, f) in &again {
        assert_eq!(
            (
                f.id.as_str(),
                f.record_state.as_str(),
                f.created_at.as_str()
            ),
            (
                after1[k].id.as_str(),
                after1[k].record_state.as_str(),
                after1[k].created_at.as_str()
            )
        );
    }
    assert_eq!(row(&fourth, &m1), &{
        let mut r = row(&third, &m1).clone();
        r.imported = row(&fourth, &m1).imported;
        r
    });
    assert_eq!(
        row(&fourth, &m1).archived,
        0,
        "already-archived findings are left to expire"
    );
}

#[tokio::test]
async fn a_partial_inventory_archives_nothing() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let x = create_api(&cfg, "x", &[("a", None)]).await;
    let y = create_api(&cfg, "y", &[("b", None)]).await;
    let args = [
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--sampling",
        "off",
        "--apigw-rps",
        "200",
        "--securityhub-rps",
        "200",
    ];
    assert_eq!(
        scan_via(&moto, &proxy, &args).await.status,
        RunStatus::Complete
    );
    let before = by_stage(&findings(&moto, MANAGEMENT, R).await);

    // y/b is deleted, but GetStages of x fails: the inventory is partial.
    delete_stage(&cfg, &y, "b").await;
    let fault = proxy.add(
        get_stages_of(&x),
        Fault::rest_json(403, "AccessDeniedException", "denied by test"),
        None,
    );
    let partial = scan_via(&moto, &proxy, &args).await;
    assert!(proxy.hits(fault) >= 1);
    assert_eq!(partial.status, RunStatus::Partial);
    let r = row(&partial, MANAGEMENT);
    assert!(!r.inventory_complete);
    assert_eq!(
        (r.archived, r.archive_withheld),
        (0, 2),
        "{}",
        partial.render_table()
    );
    assert!(partial
        .render_table()
        .contains("inventory incomplete: nothing archived"));
    let err = &partial.errors[0];
    assert_eq!(
        (err.kind.clone(), err.api_id.as_deref(), err.code.as_deref()),
        (
            ErrorKind::GetStages,
            Some(x.as_str()),
            Some("AccessDeniedException")
        )
    );
    let during = by_stage(&findings(&moto, MANAGEMENT, R).await);
    assert_eq!(during, before, "nothing archived or changed");

    proxy.clear();
    let full = scan_via(&moto, &proxy, &args).await;
    assert_eq!(full.status, RunStatus::Complete);
    let after = by_stage(&findings(&moto, MANAGEMENT, R).await);
    assert_eq!(after[&format!("{y}/b")].record_state, "ARCHIVED");
    assert_eq!(after[&format!("{x}/a")].record_state, "ACTIVE");
}

#[tokio::test]
async fn configured_exemptions_archive_matching_stages() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let x = create_api(&cfg, "x", &[("sandbox-1", None), ("prod", None)]).await;
    let rules = format!(
        r#"[{{"stage": "{MANAGEMENT}/*/sandbox-*", "reason": "sandboxes are throwaway"}},
            {{"stage": "{MANAGEMENT}/retired*/*", "reason": "an API that is gone"}}]"#
    );
    let args = [
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--exemptions",
        &rules,
        "--sampling",
        "off",
        "--apigw-rps",
        "200",
    ];
    let s = scan_via(&moto, &proxy, &args).await;
    assert_eq!((s.totals.failing, s.totals.exempt), (1, 1));
    let landed = by_stage(&findings(&moto, MANAGEMENT, R).await);
    assert_eq!(landed[&format!("{x}/sandbox-1")].record_state, "ARCHIVED");
    assert_eq!(
        landed[&format!("{x}/sandbox-1")].product_fields["apigw-tracing/scanner/ExemptionSource"],
        "config"
    );
    assert_eq!(landed[&format!("{x}/prod")].record_state, "ACTIVE");
    // How many stages each configured exemption matched: an over-broad one
    // shows a large count, a stale one 0.
    let used: Vec<(usize, usize)> = s
        .exemptions
        .iter()
        .map(|e| (e.index, e.stages_matched))
        .collect();
    assert_eq!(used, [(0, 1), (1, 0)], "{}", s.render_table());
    assert!(s.render_table().contains(&format!(
        "exemption 1 ({MANAGEMENT}/retired*/*): matched 0 stage(s)"
    )));
}

/// A finding with our GeneratorId that this product did not write (an older
/// tool, a hand import): never archived or rewritten, listed once as a
/// warning, and it does not make the run partial.
#[tokio::test]
async fn a_finding_with_our_generator_id_but_not_ours_is_left_alone() {
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    create_api(&cfg, "svc", &[("prod", None)]).await;
    let args = [
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--sampling",
        "off",
        "--apigw-rps",
        "50",
    ];
    // A finding as this product writes it, then given another Id shape.
    let settings = config(&args);
    let env = moto.env(&settings).await;
    let opts = apigw_tracing::scan::ScanOptions {
        collect_findings: true,
        ..Default::default()
    };
    let req = apigw_tracing::trigger::ScanRequest {
        dry_run: true,
        ..Default::default()
    };
    let out = apigw_tracing::scan::run(&env, &settings, &req, opts)
        .await
        .unwrap();
    let mut legacy = out.findings[0].clone();
    legacy.id = format!("{}/legacy-import-7", apigw_tracing::asff::GENERATOR_ID);
    aws_sdk_securityhub::Client::new(&cfg)
        .batch_import_findings()
        .findings(apigw_tracing::aws::publish::to_sdk(&legacy))
        .send()
        .await
        .unwrap();
    let before = findings(&moto, MANAGEMENT, R).await;
    assert_eq!(before.len(), 1);

    for _ in 0..2 {
        let s = scan_with(&moto, &args).await.summary;
        assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
        assert_eq!(s.totals.archived, 0, "{}", s.render_table());
        let foreign: Vec<_> = s
            .warnings
            .iter()
            .filter(|w| w.kind == ErrorKind::ForeignFinding)
            .collect();
        assert_eq!(foreign.len(), 1, "{:#?}", s.warnings);
        assert_eq!(foreign[0].finding_id.as_deref(), Some(legacy.id.as_str()));
    }
    let after = findings(&moto, MANAGEMENT, R).await;
    let kept = after.iter().find(|f| f.id == legacy.id).unwrap();
    assert_eq!(
        (kept.record_state.as_str(), kept.updated_at.as_str()),
        ("ACTIVE", before[0].updated_at.as_str())
    );
    assert_eq!(after.len(), 2, "ours was added beside it: {after:#?}");
}
