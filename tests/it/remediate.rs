//! Remediation against moto, every request through the fault proxy: a dry
//! run writes nothing; --apply fixes exactly the failing, non-exempt,
//! unprotected stages in scope, and their findings turn PASSED at once.

use serde_json::Value;

use crate::harness::*;
use crate::proxy::{Fault, FaultProxy};
use crate::support::*;

const R: &str = "eu-west-1";

/// UpdateStage (PATCH on a stage) and BatchImportFindings seen by the proxy.
fn writes(proxy: &FaultProxy) -> (usize, usize) {
    let log = proxy.log();
    let patches = log
        .iter()
        .filter(|l| l.method == "PATCH" && l.path.contains("/stages/"))
        .count();
    let imports = log.iter().filter(|l| l.path == "/findings/import").count();
    (patches, imports)
}

/// `apigw-tracing remediate ARGS` in this process, every request through
/// `proxy`: the exit code and the JSON report.
async fn remediate(moto: &Moto, proxy: &FaultProxy, args: &[&str]) -> (Option<i32>, Value) {
    let argv: Vec<&str> = std::iter::once("remediate")
        .chain(args.iter().copied())
        .collect();
    let out = run_cli(moto, &proxy.endpoint, &argv).await;
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

fn actions(report: &Value) -> Vec<(String, String)> {
    report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_owned(),
                s["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn tracing_of(cfg: &aws_config::SdkConfig, api: &str, stage: &str) -> bool {
    aws_sdk_apigateway::Client::new(cfg)
        .get_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .send()
        .await
        .unwrap()
        .tracing_enabled()
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_apply_fixes_exactly_what_fails() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 1).await;
    let m = members[0].as_str();
    let cfg = moto.account_config(m, R).await;
    let api = create_api(
        &cfg,
        "orders",
        &[("prod", None), ("dev", Some(false)), ("ok", Some(true))],
    )
    .await;
    put_stage(
        &cfg,
        &api,
        "legacy",
        false,
        &[("apigw-tracing:exempt", "vendor proxy")],
    )
    .await;
    put_stage(
        &cfg,
        &api,
        "frozen",
        false,
        &[("apigw-tracing:no-remediate", "")],
    )
    .await;
    // Out of scope: the management account's failing stage.
    let mgmt = moto.account_config(MANAGEMENT, R).await;
    let other = create_api(&mgmt, "other", &[("prod", None)]).await;
    let scope = [
        "--regions",
        R,
        "--accounts",
        m,
        "--format",
        "json",
        "--apigw-rps",
        "50",
    ];
    // A scan first: the FAILED findings whose CreatedAt must be kept.
    let before = scan_via(
        &moto,
        &proxy,
        &["--regions", R, "--accounts", m, "--apigw-rps", "50"],
    )
    .await;
    assert_eq!(before.totals.failing, 3, "{}", before.render_table());
    let created: std::collections::BTreeMap<String, String> = findings(&moto, m, R)
        .await
        .into_iter()
        .map(|f| (f.stage(), f.created_at))
        .collect();

    let writes_before = writes(&proxy);
    let (code, dry) = remediate(&moto, &proxy, &scope).await;
    assert_eq!(code, Some(0), "{dry:#}");
    assert_eq!(dry["apply"], false);
    assert_eq!(
        actions(&dry),
        [
            ("dev".into(), "would-enable".into()),
            ("frozen".into(), "skipped".into()),
            ("legacy".into(), "skipped".into()),
            ("prod".into(), "would-enable".into()),
        ]
    );
    assert_eq!(
        dry["stages"][0]["patch"],
        "op=replace,path=/tracingEnabled,value=true"
    );
    assert_eq!(
        writes(&proxy),
        writes_before,
        "a dry run makes no write call"
    );
    assert!(!tracing_of(&cfg, &api, "prod").await);

    let (code, applied) = remediate(&moto, &proxy, &[&scope[..], &["--apply"]].concat()).await;
    assert_eq!(code, Some(0), "{applied:#}");
    assert_eq!(applied["totals"]["enabled"], 2, "{applied:#}");
    for (stage, on) in [
        ("prod", true),
        ("dev", true),
        ("ok", true),
        ("legacy", false),
        ("frozen", false),
    ] {
        assert_eq!(tracing_of(&cfg, &api, stage).await, on, "{stage}");
    }
    assert!(
        !tracing_of(&mgmt, &other, "prod").await,
        "outside the scope"
    );
    let after: std::collections::BTreeMap<String, Landed> = findings(&moto, m, R)
        .await
        .into_iter()
        .map(|f| (f.stage(), f))
        .collect();
    for stage in ["prod", "dev"] {
        let f = &after[&format!("{api}/{stage}")];
        assert_eq!(f.compliance, "PASSED", "{stage}");
        assert_eq!(
            f.created_at,
            created[&format!("{api}/{stage}")],
            "{stage}: CreatedAt kept"
        );
    }
    assert_eq!(after[&format!("{api}/frozen")].compliance, "FAILED");

    // Again: nothing left to change, nothing written.
    let writes_before = writes(&proxy);
    let (code, again) = remediate(&moto, &proxy, &[&scope[..], &["--apply"]].concat()).await;
    assert_eq!(code, Some(0));
    assert_eq!(
        (
            &again["totals"]["enabled"],
            &again["totals"]["would_enable"]
        ),
        (&0.into(), &0.into())
    );
    assert_eq!(
        writes(&proxy).0,
        writes_before.0,
        "no UpdateStage the second time"
    );
}

#[tokio::test]
async fn a_refused_update_fails_that_stage_and_the_rest_are_fixed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let denied = create_api(&cfg, "denied", &[("prod", None)]).await;
    let fine = create_api(&cfg, "fine", &[("prod", None)]).await;
    let path = format!("/restapis/{denied}/stages/prod");
    proxy.add(
        move |s| s.method == "PATCH" && s.path == path,
        Fault::rest_json(
            403,
            "AccessDeniedException",
            "not allowed by the remediation role",
        ),
        None,
    );
    let (code, report) = remediate(
        &moto,
        &proxy,
        &[
            "--regions",
            R,
            "--accounts",
            MANAGEMENT,
            "--apply",
            "--format",
            "json",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{report:#}");
    let by_api: std::collections::BTreeMap<&str, &Value> = report["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["api_id"].as_str().unwrap(), s))
        .collect();
    assert_eq!(by_api[denied.as_str()]["action"], "failed");
    assert!(
        by_api[denied.as_str()]["reason"]
            .as_str()
            .unwrap()
            .contains("UpdateStage failed"),
        "{report:#}"
    );
    assert_eq!(by_api[fine.as_str()]["action"], "enabled");
    assert!(tracing_of(&cfg, &fine, "prod").await);
    assert!(!tracing_of(&cfg, &denied, "prod").await);
    assert_eq!(report["errors"][0]["code"], "AccessDeniedException");
}

#[tokio::test]
async fn named_stages_only() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let a = create_api(&cfg, "a", &[("prod", None), ("dev", None)]).await;
    let arn = format!("arn:aws:apigateway:{R}::/restapis/{a}/stages/dev");
    let (code, report) = remediate(
        &moto,
        &proxy,
        &[
            "--stage",
            &arn,
            "--apply",
            "--format",
            "json",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(actions(&report), [("dev".to_owned(), "enabled".to_owned())]);
    assert!(tracing_of(&cfg, &a, "dev").await);
    assert!(!tracing_of(&cfg, &a, "prod").await);
    let out = run_cli(
        &moto,
        &proxy.endpoint,
        &[
            "remediate",
            "--stage",
            "arn:aws:apigateway:eu-west-1::/restapis/a",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a stage ARN"));
}

#[tokio::test]
async fn the_custom_action_fixes_the_selected_findings_in_each_mode() {
    use apigw_tracing::lambda::{Handler, HandlerError};
    let moto = Moto::start();
    let members = create_org(&moto, 1).await;
    let m = members[0].as_str();
    let cfg = moto.account_config(m, R).await;
    let api = create_api(
        &cfg,
        "orders",
        &[("prod", None), ("dev", None), ("other", None)],
    )
    .await;
    let base = ["--regions", R, "--apigw-rps", "50"];
    let handler = |extra: &[&str]| {
        let settings = config(&[&base[..], extra].concat());
        async { Handler::new(moto.env(&settings).await, settings) }
    };

    // off: refused, nothing changed.
    let off = handler(&[]).await;
    match invoke(&off, crate::events::custom_action(m, &api, "prod")).await {
        Err(e @ HandlerError::RemediationOff) => {
            let d: lambda_runtime::Diagnostic = e.into();
            assert_eq!(d.error_type, "RemediationDisabled");
            assert!(d.error_message.contains("APIGW_TRACING_REMEDIATION"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!tracing_of(&cfg, &api, "prod").await);

    // A function configured for dry runs reports and changes nothing.
    let dry = handler(&["--remediation", "on-request", "--dry-run"]).await;
    let out = invoke(&dry, crate::events::custom_action(m, &api, "prod"))
        .await
        .unwrap();
    assert_eq!(out["apply"], false, "{out:#}");
    assert_eq!(
        actions(&out),
        [("prod".to_owned(), "would-enable".to_owned())]
    );
    assert!(!tracing_of(&cfg, &api, "prod").await);
    assert!(
        out["stages"][0].get("estimate").is_none(),
        "the Cost switch is off"
    );

    // With the Cost switch on, the answer prices the stage it would turn on.
    let priced = handler(&["--remediation", "on-request", "--dry-run", "--cost", "on"]).await;
    let out = invoke(&priced, crate::events::custom_action(m, &api, "prod"))
        .await
        .unwrap();
    let e = &out["stages"][0]["estimate"];
    assert_eq!(e["rule"], "Default", "{out:#}");
    assert!(
        e["notes"][0].as_str().unwrap().starts_with("no_traffic"),
        "{out:#}"
    );
    assert_eq!(
        out["estimate_totals"]["accounts"][m]["stages"], 1,
        "{out:#}"
    );

    // on-request: exactly the selected finding's stage; the other product's
    // finding (APIGateway.3) is ignored, so its stage stays as it is.
    let on_request = handler(&["--remediation", "on-request"]).await;
    let out = invoke(&on_request, crate::events::custom_action(m, &api, "prod"))
        .await
        .unwrap();
    assert_eq!(out["requested_by"], "custom-action", "{out:#}");
    assert_eq!(actions(&out), [("prod".to_owned(), "enabled".to_owned())]);
    assert_eq!(out["ignored"].as_array().unwrap().len(), 1, "{out:#}");
    assert!(out["ignored"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("not this product's finding"));
    assert!(tracing_of(&cfg, &api, "prod").await);
    assert!(!tracing_of(&cfg, &api, "other").await);
    assert!(!tracing_of(&cfg, &api, "dev").await);
    // The stage is read again: already fixed, so nothing is written.
    let again = invoke(&on_request, crate::events::custom_action(m, &api, "prod"))
        .await
        .unwrap();
    assert_eq!(actions(&again), [("prod".to_owned(), "skipped".to_owned())]);

    // auto: custom actions work too.
    let auto = handler(&["--remediation", "auto", "--remediate-accounts", "*"]).await;
    let out = invoke(&auto, crate::events::custom_action(m, &api, "dev"))
        .await
        .unwrap();
    assert_eq!(actions(&out), [("dev".to_owned(), "enabled".to_owned())]);
    assert!(tracing_of(&cfg, &api, "dev").await);
}

#[tokio::test]
async fn auto_remediation_follows_a_scheduled_scan_in_allowed_accounts_only() {
    use apigw_tracing::lambda::Handler;
    let moto = Moto::start();
    let members = create_org(&moto, 2).await;
    let (allowed, other) = (members[0].as_str(), members[1].as_str());
    let ca = moto.account_config(allowed, R).await;
    let co = moto.account_config(other, R).await;
    let a = create_api(&ca, "a", &[("prod", None)]).await;
    let o = create_api(&co, "o", &[("prod", None)]).await;
    let settings = config(&[
        "--regions",
        R,
        "--apigw-rps",
        "50",
        "--remediation",
        "auto",
        "--remediate-accounts",
        allowed,
    ]);
    let handler = Handler::new(moto.env(&settings).await, settings);
    let out = invoke(
        &handler,
        crate::events::fixture("eventbridge-rule-scheduled.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "complete", "{out:#}");
    assert_eq!(out["remediation"]["requested_by"], "automatic", "{out:#}");
    assert_eq!(out["remediation"]["totals"]["enabled"], 1, "{out:#}");
    assert!(tracing_of(&ca, &a, "prod").await);
    assert!(
        !tracing_of(&co, &o, "prod").await,
        "not in APIGW_TRACING_REMEDIATE_ACCOUNTS"
    );
    let bad = apigw_tracing::config::ScanArgs::from_args(["--remediation", "auto"])
        .unwrap()
        .validate();
    assert!(apigw_tracing::report::chain(&bad.unwrap_err())
        .contains("APIGW_TRACING_REMEDIATE_ACCOUNTS"));
}

/// The AWS operation a logged request was (enough to count the ones this
/// product sends; STS and Organizations by service).
fn operation(l: &crate::proxy::Logged) -> String {
    let parts: Vec<&str> = l.path.trim_matches('/').split('/').collect();
    match (l.method.as_str(), &parts[..]) {
        ("GET", ["restapis"]) => "APIGateway.GetRestApis".into(),
        ("GET", ["restapis", _, "stages"]) => "APIGateway.GetStages".into(),
        ("GET", ["restapis", _, "stages", _]) => "APIGateway.GetStage".into(),
        ("PATCH", ["restapis", _, "stages", _]) => "APIGateway.UpdateStage".into(),
        ("POST", ["findings"]) => "SecurityHub.GetFindings".into(),
        ("POST", ["findings", "import"]) => "SecurityHub.BatchImportFindings".into(),
        _ => format!("{} {} {}", l.service, l.method, l.path),
    }
}

/// `auto` after a scheduled scan hands the failing stages (and the
/// findings the scan built) straight to remediation: no second inventory
/// and no second GetFindings. Prints the requests by operation
/// (`cargo test --test it auto_remediation_reuses -- --nocapture`).
#[tokio::test]
async fn auto_remediation_reuses_the_scans_inventory_and_findings() {
    use apigw_tracing::lambda::Handler;
    let moto = Moto::start();
    let members = create_org(&moto, 2).await;
    for m in &members {
        let c = moto.account_config(m, R).await;
        create_api(&c, "a", &[("prod", None), ("dev", None)]).await;
        create_api(&c, "b", &[("prod", None)]).await;
    }
    let proxy = FaultProxy::start(&moto.endpoint);
    let settings = config(&[
        "--regions",
        R,
        "--apigw-rps",
        "50",
        "--remediation",
        "auto",
        "--remediate-accounts",
        "*",
    ]);
    let handler = Handler::new(moto.env_via(&proxy.endpoint, &settings).await, settings);
    let out = invoke(
        &handler,
        crate::events::fixture("eventbridge-rule-scheduled.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "complete", "{out:#}");
    assert_eq!(out["remediation"]["totals"]["enabled"], 6, "{out:#}");
    let mut ops = std::collections::BTreeMap::<String, usize>::new();
    for l in proxy.log() {
        *ops.entry(operation(&l)).or_default() += 1;
    }
    let total: usize = ops.values().sum();
    eprintln!("scheduled scan + auto, 3 accounts (2 with 3 failing stages): {total} requests");
    for (op, n) in &ops {
        eprintln!("  {n:>4}  {op}");
    }
    // The scan's reads, once: one GetRestApis and one GetFindings per
    // account-region (management + 2 members), one GetStages per API.
    assert_eq!(ops["APIGateway.GetRestApis"], 3, "{ops:#?}");
    assert_eq!(ops["SecurityHub.GetFindings"], 3, "{ops:#?}");
    assert_eq!(ops["APIGateway.GetStages"], 4, "{ops:#?}");
    // The writes: per stage, one GetStage right before (it may have been
    // exempted or fixed since the scan), one UpdateStage, one GetStage to
    // confirm.
    assert_eq!(ops["APIGateway.UpdateStage"], 6, "{ops:#?}");
    assert_eq!(ops["APIGateway.GetStage"], 12, "{ops:#?}");
    for m in &members {
        let landed = findings(&moto, m, R).await;
        assert_eq!(landed.len(), 3);
        assert!(
            landed
                .iter()
                .all(|f| f.compliance == "PASSED" && f.created_at < f.updated_at),
            "every finding PASSED at once, CreatedAt kept from the scan: {landed:#?}"
        );
    }
}

/// `--dry-run` with `--apply`, or `APIGW_TRACING_DRY_RUN=true` with
/// `--apply`: refused as contradictory (exit 2), nothing written.
#[tokio::test]
async fn a_dry_run_with_apply_is_refused_and_writes_nothing() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let api = create_api(&cfg, "a", &[("prod", None)]).await;
    let args = [
        "remediate",
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--dry-run",
        "--apply",
    ];
    let out = run_cli(&moto, &proxy.endpoint, &args).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--apply contradicts --dry-run"));
    let scope = ["--regions", R, "--accounts", MANAGEMENT];
    let by_env = cli_subcommand(
        &moto,
        &proxy.endpoint,
        "remediate",
        &[&scope[..], &["--apply"]].concat(),
    )
    .env("APIGW_TRACING_DRY_RUN", "true")
    .output()
    .unwrap();
    assert_eq!(by_env.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&by_env.stderr).contains("APIGW_TRACING_DRY_RUN=true"));
    assert_eq!(writes(&proxy), (0, 0));
    assert!(!tracing_of(&cfg, &api, "prod").await);
    // The same environment without --apply is an ordinary dry run.
    let dry = cli_subcommand(&moto, &proxy.endpoint, "remediate", &scope)
        .env("APIGW_TRACING_DRY_RUN", "true")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(dry.status.code(), Some(0), "{table}");
    assert!(table.contains("would-enable"), "{table}");
    assert_eq!(writes(&proxy), (0, 0));
}

/// A stage tagged exempt (or no-remediate) after it was read, but before
/// the write, is left alone: each stage is read again right before its
/// UpdateStage. (The stale evaluation stands for the scan's read.)
#[tokio::test]
async fn a_stage_exempted_after_the_read_is_read_again_and_left_alone() {
    use apigw_tracing::aws::pacing::Pacers;
    use apigw_tracing::model::{AccountId, AccountRegion, Region, StageRecord, StageRef};
    use apigw_tracing::remediate::decide::Requester;
    use apigw_tracing::remediate::{RegionStages, RemediateOptions, Remediator};
    let moto = Moto::start();
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let api = create_api(&cfg, "a", &[("prod", None), ("dev", None)]).await;
    let place = |stage: &str| {
        StageRef::new(
            AccountId::parse(MANAGEMENT).unwrap(),
            Region::parse(R).unwrap(),
            &api,
            stage,
        )
    };
    let as_read = |stage: &str| StageRecord::new(place(stage), false);
    let settings = config(&["--regions", R, "--apigw-rps", "50"]);
    let stale: Vec<_> = ["prod", "dev"]
        .iter()
        .map(|s| {
            apigw_tracing::evaluate::evaluate(
                as_read(s),
                &settings.exemptions,
                chrono::Utc::now().date_naive(),
            )
        })
        .collect();
    // Since that read: prod exempted, dev marked no-remediate.
    put_stage(
        &cfg,
        &api,
        "prod",
        false,
        &[("apigw-tracing:exempt", "vendor")],
    )
    .await;
    put_stage(
        &cfg,
        &api,
        "dev",
        false,
        &[("apigw-tracing:no-remediate", "")],
    )
    .await;
    let env = moto.env(&settings).await;
    let me = apigw_tracing::aws::accounts::caller_identity(&env)
        .await
        .unwrap();
    let opts = RemediateOptions {
        apply: true,
        stages: Vec::new(),
        requested_by: Requester::Cli,
        prices: None,
    };
    let pacers = Pacers::new(settings.limits.apigw_rps, settings.limits.securityhub_rps);
    let r = Remediator {
        env: &env,
        cfg: &settings,
        me: &me,
        opts: &opts,
        pacers: &pacers,
    };
    let region = RegionStages {
        at: AccountRegion::new(
            AccountId::parse(MANAGEMENT).unwrap(),
            Region::parse(R).unwrap(),
        ),
        evaluations: stale,
        complete: true,
        errors: Vec::new(),
        findings: Some(Vec::new()),
        estimates: Default::default(),
    };
    let (stages, errors) = r
        .account(&AccountId::parse(MANAGEMENT).unwrap(), vec![region])
        .await;
    assert!(errors.is_empty(), "{errors:?}");
    let reasons: Vec<(String, String)> = stages
        .iter()
        .map(|s| (s.stage.stage.clone(), s.reason.clone().unwrap_or_default()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|(s, r)| s == "prod"
            && r.starts_with("exempt: vendor")
            && r.contains("read again")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(s, r)| s == "dev" && r.contains("no-remediate") && r.contains("read again")),
        "{reasons:?}"
    );
    assert!(!tracing_of(&cfg, &api, "prod").await);
    assert!(!tracing_of(&cfg, &api, "dev").await);
}

/// After an interrupted apply (the stage traced, its finding still FAILED),
/// a rerun imports the PASSED finding ("resolved"); a --stage that matches
/// nothing is reported (exit 1); each change is one audit line on stderr,
/// without colour codes when stderr is not a terminal.
#[tokio::test]
async fn a_rerun_converges_unknown_stages_are_reported_and_changes_are_audited() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let cfg = moto.account_config(MANAGEMENT, R).await;
    let api = create_api(&cfg, "a", &[("prod", None), ("dev", None)]).await;
    let scope = [
        "--regions",
        R,
        "--accounts",
        MANAGEMENT,
        "--apigw-rps",
        "50",
    ];
    // A scan writes both findings FAILED; then prod is traced by a run that
    // died before its finding landed.
    scan_with(&moto, &scope).await;
    set_tracing(&cfg, &api, "prod", true).await;
    let out = cli_subcommand(
        &moto,
        &proxy.endpoint,
        "remediate",
        &[&scope[..], &["--apply", "--format", "json"]].concat(),
    )
    .output()
    .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let mut got = actions(&report);
    got.sort();
    assert_eq!(
        got,
        [
            ("dev".to_owned(), "enabled".to_owned()),
            ("prod".to_owned(), "resolved".to_owned())
        ]
    );
    let landed = findings(&moto, MANAGEMENT, R).await;
    assert!(
        landed.iter().all(|f| f.compliance == "PASSED"),
        "{landed:#?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let audit: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("tracing enabled"))
        .collect();
    assert_eq!(audit.len(), 1, "{err}");
    assert!(
        audit[0].contains("stage=\"dev\"") || audit[0].contains("stage=dev"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes into a pipe: {err:?}"
    );

    let missing = format!("arn:aws:apigateway:{R}::/restapis/{api}/stages/nope");
    let (code, report) = remediate(
        &moto,
        &proxy,
        &[&scope[..], &["--stage", &missing, "--format", "json"]].concat(),
    )
    .await;
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["errors"][0]["kind"], "stage_not_found", "{report:#}");
}
