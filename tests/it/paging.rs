//! Every paging loop ends: a service answering the same position forever
//! (GetAuthorizers), or ever-new positions (GetResources), costs that API's
//! walk at most `wiring::MAX_PAGES` calls; its trace paths are UNKNOWN with
//! a `paging_overrun` warning, and the run and the region stay complete.

use std::sync::Arc;

use apigw_tracing::report::{ErrorKind, RunStatus};

use crate::lambda_kit::*;
use crate::proxy::{Fault, FaultProxy};
use crate::support::*;

const REGION: &str = "eu-west-1";

#[tokio::test]
async fn paging_that_never_ends_costs_one_apis_walk_not_the_run() {
    let moto = Moto::start();
    create_org(&moto, 0).await;
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    enable_security_hub(&cfg).await;
    let role = ensure_role(&cfg).await;
    let f = create_function(&cfg, "f", true, &role).await;
    let auth = create_function(&cfg, "auth", true, &role).await;
    let repeating = create_wired_api(
        &cfg,
        "repeating",
        &[Route {
            authorizer: Some(lambda_uri(REGION, &auth)),
            ..Route::new("a", Target::Lambda(lambda_uri(REGION, &f)))
        }],
        &[("prod", true, &[])],
    )
    .await;
    let endless = create_wired_api(
        &cfg,
        "endless",
        &[Route::new("b", Target::Lambda(lambda_uri(REGION, &f)))],
        &[("prod", true, &[])],
    )
    .await;
    let calm = create_wired_api(
        &cfg,
        "calm",
        &[Route::new("c", Target::Lambda(lambda_uri(REGION, &f)))],
        &[("prod", true, &[])],
    )
    .await;
    let proxy = FaultProxy::start(&moto.endpoint);
    let auth_uri = lambda_uri(REGION, &auth);
    let authorizers = format!("/restapis/{repeating}/authorizers");
    let same = proxy.add(
        move |r| r.method == "GET" && r.path == authorizers,
        Fault::Pages(Arc::new(move |_| {
            format!(r#"{{"item": [{{"id": "zz", "name": "auth", "type": "TOKEN", "authorizerUri": "{auth_uri}"}}], "position": "same"}}"#)
        })),
        None,
    );
    let resources = format!("/restapis/{endless}/resources");
    let ever_new = proxy.add(
        move |r| r.method == "GET" && r.path == resources,
        Fault::Pages(Arc::new(|n| {
            format!(r#"{{"item": [{{"id": "r{n}", "path": "/x{n}"}}], "position": "p{n}"}}"#)
        })),
        None,
    );
    let args = ["--regions", REGION, "--trace-path", "--apigw-rps", "50"];
    let sum = crate::harness::scan_via(&moto, &proxy, &args).await;
    // A repeated position ends the paging at once; ever-new ones at the cap.
    assert!(proxy.hits(same) <= 2, "{}", proxy.hits(same));
    assert_eq!(proxy.hits(ever_new), apigw_tracing::aws::wiring::MAX_PAGES);
    assert_eq!(sum.status, RunStatus::Complete, "{}", sum.render_table());
    let overruns: Vec<_> = sum
        .warnings
        .iter()
        .filter(|w| w.kind == ErrorKind::PagingOverrun)
        .collect();
    assert_eq!(overruns.len(), 1, "{:#?}", sum.warnings);
    assert_eq!(overruns[0].api_id.as_deref(), Some(endless.as_str()));
    // endless's path is unknown; repeating's and calm's are judged.
    let t = &sum.totals;
    assert_eq!(
        (t.paths, t.paths_unknown, t.paths_failed),
        (3, 1, 0),
        "{}",
        sum.render_table()
    );
    let _ = calm;
}

/// A traced stage whose Lambda target names a stage variable the stage does
/// not set: its path is UNKNOWN, and a `path_unresolved` warning says which
/// stage and why (once).
#[tokio::test]
async fn an_unresolved_target_is_named_in_a_warning() {
    let moto = Moto::start();
    create_org(&moto, 0).await;
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    enable_security_hub(&cfg).await;
    let role = ensure_role(&cfg).await;
    create_function(&cfg, "pay", true, &role).await;
    let target =
        format!("arn:aws:lambda:{REGION}:{MANAGEMENT}:function:pay:${{stageVariables.alias}}");
    let api = create_wired_api(
        &cfg,
        "unset",
        &[Route::new(
            "pay",
            Target::Lambda(lambda_uri(REGION, &target)),
        )],
        &[("prod", true, &[])],
    )
    .await;
    let out = scan_with(
        &moto,
        &["--regions", REGION, "--trace-path", "--apigw-rps", "50"],
    )
    .await;
    let sum = &out.summary;
    assert_eq!(sum.status, RunStatus::Complete, "{}", sum.render_table());
    assert_eq!(sum.totals.paths_unknown, 1);
    let warned: Vec<_> = sum
        .warnings
        .iter()
        .filter(|w| w.kind == ErrorKind::PathUnresolved)
        .collect();
    assert_eq!(warned.len(), 1, "{:#?}", sum.warnings);
    assert_eq!(warned[0].api_id.as_deref(), Some(api.as_str()));
    assert!(
        warned[0].message.contains("stage prod")
            && warned[0].message.contains("stage variable alias"),
        "{}",
        warned[0].message
    );
}
