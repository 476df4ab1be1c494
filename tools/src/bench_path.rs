//! `make bench-moto`, second part: the trace path's cost. PATH_APIS REST
//! APIs in one account-region, every other one with a traced stage; each
//! API's three GET methods integrate with its own two functions and one of
//! 20 shared ones (every third function PassThrough), and every tenth API
//! puts the shared function behind a TOKEN authorizer too. Scanned by the
//! real binary with the trace path off, then on; prints both and the ratio.

use std::time::Instant;

use crate::lambda_kit::*;
use crate::support::*;
use crate::{report_against, run_scan_with, scan_minimum, REGION};

const SHARED: usize = 20;

async fn seed(moto: &Moto, apis: usize) -> (usize, usize, usize) {
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    let role = ensure_role(&cfg).await;
    let mut n = 0;
    let mut function = |name: String| {
        n += 1;
        let (cfg, role) = (cfg.clone(), role.clone());
        async move { create_function(&cfg, &name, n % 3 != 0, &role).await }
    };
    let mut shared = Vec::new();
    for k in 0..SHARED {
        shared.push(function(format!("shared-{k:02}")).await);
    }
    let (mut traced, mut with_authorizer) = (0, 0);
    let mut distinct = std::collections::BTreeSet::new();
    for i in 0..apis {
        let a = function(format!("fn-{i:04}-a")).await;
        let b = function(format!("fn-{i:04}-b")).await;
        let s = shared[i % SHARED].clone();
        let uri = |arn: &str| lambda_uri(REGION, arn);
        let authorizer = (i % 10 == 0).then(|| uri(&s));
        let routes = [
            Route {
                authorizer: authorizer.clone(),
                ..Route::new("a", Target::Lambda(uri(&a)))
            },
            Route::new("b", Target::Lambda(uri(&b))),
            Route::new("s", Target::Lambda(uri(&s))),
        ];
        let on = i % 2 == 0;
        create_wired_api(
            &cfg,
            &format!("api-{i:04}"),
            &routes,
            &[("prod", on, &[]), ("dev", false, &[])],
        )
        .await;
        if on {
            traced += 1;
            with_authorizer += usize::from(authorizer.is_some());
            distinct.extend([a, b, s]);
        }
    }
    (traced, with_authorizer, distinct.len())
}

pub async fn bench(bin: &str, apis: usize, rps: &str) {
    let moto = Moto::start();
    enable_security_hub(&moto.account_config(MANAGEMENT, REGION).await).await;
    let t = Instant::now();
    let (traced, with_authorizer, functions) = seed(&moto, apis).await;
    println!(
        "\n\nseeded {apis} APIs x 2 stages ({traced} with a traced stage), {} functions ({functions} behind traced stages) on moto in {:.1} s",
        2 * apis + SHARED,
        t.elapsed().as_secs_f64()
    );
    let stages = 2 * apis;
    let base = |findings: usize, existing: usize| scan_minimum(apis, findings, existing);
    // First scan with the path off (its stage findings land), then the
    // comparison: a rescan with the path off, and one with it on.
    run_scan_with(&moto, bin, rps, &[]);
    let (off, off_wall, off_rss) = run_scan_with(&moto, bin, rps, &[]);
    report_against(
        "trace path off (rescan)",
        &off,
        off_wall,
        off_rss,
        &base(stages, stages),
    );
    let (on, on_wall, on_rss) = run_scan_with(&moto, bin, rps, &["--trace-path", "on"]);
    let mut minimum = base(stages + traced, stages);
    minimum.extend([
        ("APIGateway.GetResources", traced as u64),
        ("APIGateway.GetAuthorizers", with_authorizer as u64),
        ("Lambda.GetFunctionConfiguration", functions as u64),
    ]);
    report_against(
        "trace path on (rescan; path findings new)",
        &on,
        on_wall,
        on_rss,
        &minimum,
    );
    // GetResources is held to 5 every 2 s: its floor, beside GetStages'.
    let floor_stages = apis as f64 / rps.parse::<f64>().unwrap_or(5.0);
    let floor_walk = traced as f64 * 0.4;
    println!(
        "\ntrace path on / off: {:.2}x wall time ({on_wall:.1} s / {off_wall:.1} s); floors: {apis} GetStages at {rps}/s {floor_stages:.0} s, then {traced} GetResources at 2.5/s {floor_walk:.0} s",
        on_wall / off_wall
    );
    println!(
        "per API with a traced stage: 1 GetResources{}; per distinct function: 1 GetFunctionConfiguration; per traced stage: 1 more finding",
        if with_authorizer > 0 { " (+1 GetAuthorizers where a method uses an authorizer)" } else { "" }
    );
}
