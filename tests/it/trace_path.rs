//! The trace path on moto: a traced stage's functions (own account and
//! another member's, an authorizer, an alias through a stage variable, a
//! MOCK integration), the trace-path findings' lifecycle, and the fix.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use apigw_tracing::report::{ErrorKind, RunStatus};

use crate::harness::run_cli;
use crate::lambda_kit::*;
use crate::proxy::{Fault, FaultProxy};
use crate::support::*;

const REGION: &str = "eu-west-1";
const PATH_GENERATOR: &str = "apigw-tracing/trace-path";
const FOREIGN: &str = "999999999999";

struct Seeded {
    member: String,
    shop: String,
    good: String,
    ghost: String,
}

/// Management account: `shop` (prod traced with alias=live, dev not
/// traced) in front of orders (Active), legacy (PassThrough) behind the
/// auth authorizer (PassThrough), pay:${alias} (Active), a MOCK and an
/// HTTP method, and the member's `remote` (Active); `good` (prod traced)
/// in front of orders only; `ghost` (prod traced) in front of a function
/// that does not exist.
async fn seed(moto: &Moto) -> Seeded {
    let member = create_org(moto, 1).await.remove(0);
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    let mcfg = moto.account_config(&member, REGION).await;
    enable_security_hub(&cfg).await;
    let role = ensure_role(&cfg).await;
    let orders = create_function(&cfg, "orders", true, &role).await;
    let legacy = create_function(&cfg, "legacy", false, &role).await;
    let auth = create_function(&cfg, "auth", false, &role).await;
    create_function(&cfg, "pay", true, &role).await;
    aws_sdk_lambda::Client::new(&cfg)
        .create_alias()
        .function_name("pay")
        .name("live")
        .function_version("$LATEST")
        .send()
        .await
        .unwrap();
    let mrole = ensure_role(&mcfg).await;
    let remote = create_function(&mcfg, "remote", true, &mrole).await;
    let pay_template =
        format!("arn:aws:lambda:{REGION}:{MANAGEMENT}:function:pay:${{stageVariables.alias}}");
    let shop = create_wired_api(
        &cfg,
        "shop",
        &[
            Route::new("orders", Target::Lambda(lambda_uri(REGION, &orders))),
            Route {
                authorizer: Some(lambda_uri(REGION, &auth)),
                ..Route::new("legacy", Target::Lambda(lambda_uri(REGION, &legacy)))
            },
            Route::new("pay", Target::Lambda(lambda_uri(REGION, &pay_template))),
            Route::new("health", Target::Mock),
            Route::new("partner", Target::Http("https://partner.example")),
            Route::new("remote", Target::Lambda(lambda_uri(REGION, &remote))),
            // An account outside the organization: UNKNOWN, never assumed.
            Route::new(
                "foreign",
                Target::Lambda(lambda_uri(
                    REGION,
                    &format!("arn:aws:lambda:{REGION}:{FOREIGN}:function:theirs"),
                )),
            ),
        ],
        &[("prod", true, &[("alias", "live")]), ("dev", false, &[])],
    )
    .await;
    let good = create_wired_api(
        &cfg,
        "good",
        &[Route::new(
            "orders",
            Target::Lambda(lambda_uri(REGION, &orders)),
        )],
        &[("prod", true, &[])],
    )
    .await;
    let gone = format!("arn:aws:lambda:{REGION}:{MANAGEMENT}:function:gone");
    let ghost = create_wired_api(
        &cfg,
        "ghost",
        &[Route::new("x", Target::Lambda(lambda_uri(REGION, &gone)))],
        &[("prod", true, &[])],
    )
    .await;
    Seeded {
        member,
        shop,
        good,
        ghost,
    }
}

/// The trace-path findings in the management account's Security Hub:
/// (stage `api/stage`, compliance, record state, updated at, the function
/// resources `name[:qualifier]=mode`).
async fn path_findings(moto: &Moto) -> Vec<(String, String, String, String, Vec<String>)> {
    let hub = aws_sdk_securityhub::Client::new(&moto.account_config(MANAGEMENT, REGION).await);
    let mut out = Vec::new();
    for f in hub
        .get_findings()
        .max_results(100)
        .send()
        .await
        .unwrap()
        .findings()
    {
        if f.generator_id() != Some(PATH_GENERATOR) {
            continue;
        }
        let stage = f.resources()[0]
            .id()
            .unwrap()
            .split("/restapis/")
            .nth(1)
            .unwrap();
        let functions = f.resources()[1..]
            .iter()
            .map(|r| {
                assert_eq!(r.r#type(), Some("AwsLambdaFunction"));
                let d = r.details().unwrap().aws_lambda_function().unwrap();
                let q = d.version().map(|v| format!(":{v}")).unwrap_or_default();
                let mode = d.tracing_config().and_then(|t| t.mode()).unwrap_or("?");
                format!("{}{q}={mode}", d.function_name().unwrap())
            })
            .collect();
        out.push((
            stage.replace("/stages/", "/"),
            f.compliance()
                .unwrap()
                .status()
                .unwrap()
                .as_str()
                .to_owned(),
            f.record_state().unwrap().as_str().to_owned(),
            f.updated_at().unwrap().to_owned(),
            functions,
        ));
    }
    out.sort();
    out
}

const ARGS: [&str; 5] = ["--regions", REGION, "--trace-path", "--apigw-rps", "50"];

#[tokio::test]
async fn a_traced_stage_gets_a_trace_path_finding_naming_the_functions_that_break_it() {
    let moto = Moto::start();
    let s = seed(&moto).await;
    let out = scan_with(&moto, &ARGS).await;
    let sum = &out.summary;
    assert_eq!(sum.status, RunStatus::Complete, "{}", sum.render_table());
    let t = &sum.totals;
    // shop/prod, good/prod and ghost/prod trace; shop/dev does not.
    assert_eq!(
        (t.paths, t.paths_failed, t.paths_unknown),
        (3, 1, 1),
        "{}",
        sum.render_table()
    );
    assert!(sum
        .render_table()
        .contains("trace paths: 3 traced stage(s), 1 FAILED, 1 unknown"));
    // One walk per API with a traced stage; GetAuthorizers only where a
    // method uses one; each distinct function read once (orders is behind
    // two APIs): orders, legacy, auth, pay:live, remote, gone.
    assert_eq!(sum.requests["APIGateway.GetResources"].calls, 3);
    assert_eq!(sum.requests["APIGateway.GetAuthorizers"].calls, 1);
    assert_eq!(sum.requests["Lambda.GetFunctionConfiguration"].calls, 6);
    // The missing function and the one outside the organization are
    // warnings naming them, not errors; no role is assumed outside it.
    let unreadable: Vec<&str> = sum
        .warnings
        .iter()
        .filter(|w| w.kind == ErrorKind::FunctionUnreadable)
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(unreadable.len(), 2, "{:#?}", sum.warnings);
    assert!(
        unreadable.iter().any(|m| m.contains("function:gone")),
        "{unreadable:?}"
    );
    assert!(
        unreadable.iter().any(|m| m.contains(&format!(
            "account {FOREIGN} is not among the accounts this scan may read (not an active account of the organization)"
        ))),
        "{unreadable:?}"
    );
    // The member's role: once to scan it, once more (kept for the run) to
    // read its function for the management account's API; none outside.
    assert_eq!(sum.requests["STS.AssumeRole"].calls, 2);

    let landed = path_findings(&moto).await;
    let shop_prod = format!("{}/prod", s.shop);
    let good_prod = format!("{}/prod", s.good);
    let stages: Vec<&str> = landed.iter().map(|f| f.0.as_str()).collect();
    let mut want = vec![shop_prod.as_str(), good_prod.as_str()];
    want.sort();
    assert_eq!(
        stages, want,
        "no path finding for the untraced dev or the UNKNOWN ghost"
    );
    let shop = landed.iter().find(|f| f.0 == shop_prod).unwrap();
    assert_eq!((shop.1.as_str(), shop.2.as_str()), ("FAILED", "ACTIVE"));
    // The failing ones first, then the rest; the alias resolved from this
    // stage's variable; the member's function included.
    // (Within a verdict, by account: the member's id is random, so the
    // passing ones are compared sorted.)
    assert_eq!(
        shop.4[..3],
        ["auth=PassThrough", "legacy=PassThrough", "theirs=?"]
    );
    let mut passing = shop.4[3..].to_vec();
    passing.sort();
    assert_eq!(
        passing,
        ["orders=Active", "pay:live=Active", "remote=Active"]
    );
    let good = landed.iter().find(|f| f.0 == good_prod).unwrap();
    assert_eq!((good.1.as_str(), good.4.len()), ("PASSED", 1));

    let all = findings(&moto, MANAGEMENT, REGION).await;
    let f = all
        .iter()
        .find(|f| f.generator_id == PATH_GENERATOR && f.stage() == shop_prod)
        .unwrap();
    assert!(
        f.description.contains(&format!("2 of 6 Lambda function(s) behind it do not trace actively: auth ({MANAGEMENT}, PassThrough, authorizer), legacy ({MANAGEMENT}, PassThrough)")),
        "{}",
        f.description
    );
    let field = |k: &str| {
        f.product_fields
            .get(&format!("apigw-tracing/scanner/{k}"))
            .cloned()
    };
    assert_eq!(
        field("NotTraceableByAws").as_deref(),
        Some("GET /health: MOCK integration; GET /partner: HTTP integration")
    );
    assert!(field("Authorizers").unwrap().starts_with("auth ("));
    // The stage findings are there as before, under their own GeneratorId.
    assert_eq!(
        all.iter()
            .filter(|f| f.generator_id == "apigw-tracing/xray-active-tracing")
            .count(),
        4
    );
    let _ = (&s.member, &s.ghost);
}

#[tokio::test]
async fn trace_path_findings_follow_the_stage_and_an_unreadable_function_archives_nothing() {
    let moto = Moto::start();
    let s = seed(&moto).await;
    scan_with(&moto, &ARGS).await;
    let before = path_findings(&moto).await;
    let good_prod = format!("{}/prod", s.good);
    let good_before = before.iter().find(|f| f.0 == good_prod).unwrap().clone();

    // `orders` becomes unreadable: good/prod's path is UNKNOWN, and its
    // PASSED finding is left exactly as it was (not archived, not FAILED).
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    lambda
        .delete_function()
        .function_name("orders")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let out = scan_with(&moto, &ARGS).await;
    assert_eq!(
        out.summary.totals.paths_unknown,
        2,
        "{}",
        out.summary.render_table()
    );
    assert_eq!(out.summary.totals.paths_archived, 0);
    let after = path_findings(&moto).await;
    assert_eq!(
        after.iter().find(|f| f.0 == good_prod).unwrap(),
        &good_before
    );

    // Tracing off on good/prod, and shop/prod deleted: both path findings
    // are archived; with the trace path off, nothing of them is touched.
    set_tracing(&cfg, &s.good, "prod", false).await;
    delete_stage(&cfg, &s.shop, "prod").await;
    let off = scan_with(&moto, &["--regions", REGION, "--apigw-rps", "50"]).await;
    assert_eq!(off.summary.totals.paths_archived, 0);
    assert_eq!(
        path_findings(&moto).await,
        after,
        "trace path off leaves its findings alone"
    );
    let out = scan_with(&moto, &ARGS).await;
    assert_eq!(
        out.summary.totals.paths_archived,
        2,
        "{}",
        out.summary.render_table()
    );
    let states: Vec<String> = path_findings(&moto)
        .await
        .into_iter()
        .map(|f| f.2)
        .collect();
    assert_eq!(states, ["ARCHIVED", "ARCHIVED"]);
}

#[tokio::test]
async fn remediate_trace_path_reports_in_dry_run_and_fixes_latest_only_with_apply() {
    let moto = Moto::start();
    let s = seed(&moto).await;
    let proxy = FaultProxy::start(&moto.endpoint);
    fn updates(s: &crate::proxy::Seen) -> bool {
        s.method == "PUT" && s.path.contains("/configuration")
    }
    let base = [
        "remediate",
        "--regions",
        REGION,
        "--trace-path",
        "--apigw-rps",
        "50",
    ];

    let dry = run_cli(
        &moto,
        &proxy.endpoint,
        &[&base[..], &["--format", "json"]].concat(),
    )
    .await;
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    let actions: Vec<(String, String)> = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["function"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned();
            (name, f["action"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("auth".into(), "would-enable".into()),
            ("legacy".into(), "would-enable".into())
        ]
    );
    assert!(report["functions"][1]["command"]
        .as_str()
        .unwrap()
        .contains("--tracing-config Mode=Active"));
    assert!(
        !proxy
            .log()
            .iter()
            .any(|l| l.method == "PUT" && l.path.contains("/configuration")),
        "a dry run writes nothing"
    );
    assert!(
        !proxy
            .log()
            .iter()
            .any(|l| l.service == "securityhub" && l.path.contains("import")),
        "nor imports anything"
    );

    // --apply: Lambda refuses `auth` (its role lacks X-Ray); `legacy` is
    // updated. moto ignores TracingConfig on update, so once the update
    // went through, the proxy answers legacy's read-back as Lambda would.
    proxy.add(
        |s| updates(s) && s.path.contains("auth"),
        Fault::rest_json(
            400,
            "InvalidParameterValueException",
            "The provided execution role does not have permissions to call PutTraceSegments on XRAY",
        ),
        None,
    );
    let updated = Arc::new(AtomicBool::new(false));
    let seen = updated.clone();
    proxy.add(
        move |s| {
            if updates(s) && s.path.contains("legacy") {
                seen.store(true, Ordering::SeqCst);
            }
            false
        },
        Fault::Delay(std::time::Duration::ZERO),
        None,
    );
    let flag = updated.clone();
    proxy.add(
        move |s| s.method == "GET" && s.path.contains("legacy") && flag.load(Ordering::SeqCst),
        Fault::Respond {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: format!(
                r#"{{"FunctionName":"legacy","FunctionArn":"arn:aws:lambda:{REGION}:{MANAGEMENT}:function:legacy","TracingConfig":{{"Mode":"Active"}}}}"#
            ),
        },
        None,
    );
    let applied = run_cli(
        &moto,
        &proxy.endpoint,
        &[&base[..], &["--apply", "--format", "json"]].concat(),
    )
    .await;
    assert_eq!(applied.status.code(), Some(1), "one fix failed: partial");
    let report: serde_json::Value = serde_json::from_slice(&applied.stdout).unwrap();
    let fns = report["functions"].as_array().unwrap();
    assert_eq!(fns[0]["action"], "failed");
    assert!(
        fns[0]["reason"].as_str().unwrap().contains(
            "aws iam attach-role-policy --role-name seeded-function-role --policy-arn arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
        ),
        "{}",
        fns[0]["reason"]
    );
    assert_eq!(fns[1]["action"], "enabled");
    assert!(updated.load(Ordering::SeqCst));
    let puts: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|l| l.method == "PUT" && l.path.contains("/configuration"))
        .collect();
    assert_eq!(
        puts.len(),
        2,
        "one UpdateFunctionConfiguration per function, unqualified: {puts:#?}"
    );
    assert!(puts.iter().all(|l| l.body.contains("\"Mode\":\"Active\"")));
    let _ = (&s.member, &s.shop);
}

#[tokio::test]
async fn a_failed_walk_makes_the_run_partial_and_leaves_that_apis_path_findings_alone() {
    let moto = Moto::start();
    let s = seed(&moto).await;
    scan_with(&moto, &ARGS).await;
    let before = path_findings(&moto).await;
    let proxy = FaultProxy::start(&moto.endpoint);
    let shop_resources = format!("/restapis/{}/resources", s.shop);
    let rule = proxy.add(
        move |r| r.method == "GET" && r.path.starts_with(&shop_resources),
        Fault::rest_json(500, "InternalServerError", "injected"),
        None,
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let args = [&ARGS[..], &["--max-attempts", "2", "--retry-base-ms", "10"]].concat();
    let sum = crate::harness::scan_via(&moto, &proxy, &args).await;
    assert!(proxy.hits(rule) >= 1);
    assert_eq!(sum.status, RunStatus::Partial, "{}", sum.render_table());
    let walk: Vec<_> = sum
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::GetResources)
        .collect();
    assert_eq!(walk.len(), 1, "{:#?}", sum.errors);
    assert_eq!(walk[0].api_id.as_deref(), Some(s.shop.as_str()));
    assert!(
        walk[0]
            .message
            .contains("trace paths of its stages are UNKNOWN"),
        "{}",
        walk[0].message
    );
    assert_eq!(
        (sum.totals.paths_unknown, sum.totals.paths_archived),
        (2, 0)
    );
    let after = path_findings(&moto).await;
    let shop_prod = format!("{}/prod", s.shop);
    let pick = |all: &[(String, String, String, String, Vec<String>)]| {
        all.iter().find(|f| f.0 == shop_prod).cloned().unwrap()
    };
    assert_eq!(
        pick(&after),
        pick(&before),
        "shop's path finding is left exactly as it was"
    );
}

/// The function (Lambda handler) with the trace path on: a change event
/// rescans that API's stages and paths only.
#[tokio::test]
async fn a_change_event_reconciles_that_apis_trace_paths_only() {
    let moto = Moto::start();
    let s = seed(&moto).await;
    let settings = config(&[
        "--regions",
        REGION,
        "--trace-path",
        "on",
        "--apigw-rps",
        "50",
    ]);
    let handler = apigw_tracing::lambda::Handler::new(moto.env(&settings).await, settings);
    let first = invoke(
        &handler,
        crate::events::fixture("eventbridge-rule-scheduled.json"),
    )
    .await
    .unwrap();
    assert_eq!(first["trace_path"], true, "{first:#}");
    assert_eq!(first["totals"]["paths"], 3, "{first:#}");
    let before = path_findings(&moto).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    delete_stage(&cfg, &s.shop, "prod").await;
    let out = invoke(
        &handler,
        crate::events::cloudtrail("delete-stage", MANAGEMENT, &s.shop, "prod"),
    )
    .await
    .unwrap();
    assert_eq!(out["trigger"], "change", "{out:#}");
    assert_eq!(out["totals"]["paths_archived"], 1, "{out:#}");
    assert_eq!(
        out["requests"]["APIGateway.GetResources"],
        serde_json::Value::Null,
        "shop has no traced stage left: no walk"
    );
    let after = path_findings(&moto).await;
    let shop_prod = format!("{}/prod", s.shop);
    for (b, a) in before.iter().zip(&after) {
        if b.0 == shop_prod {
            assert_eq!(a.2, "ARCHIVED");
        } else {
            assert_eq!(a, b, "another API's path finding is untouched");
        }
    }
}
