//! Sampling verdicts end to end: rules written with the real SDK to the
//! test kit's X-Ray endpoint, stages on moto, scans through the product,
//! findings read back from moto's Security Hub.

use apigw_tracing::report::{ErrorKind, RunStatus};

use crate::proxy::{Fault, FaultProxy};
use crate::support::*;

const REGION: &str = "eu-west-1";
const SAMPLING: &str = "apigw-tracing/sampling";
const STAGE_RULE: &str = "apigw-tracing/xray-active-tracing";

/// A rule as `aws xray create-sampling-rule` writes it: every condition
/// `*` unless given.
pub struct Rule<'a> {
    pub name: &'a str,
    pub priority: i32,
    pub reservoir: i32,
    pub rate: f64,
    pub service_name: &'a str,
    pub resource_arn: &'a str,
    pub url_path: &'a str,
    pub http_method: &'a str,
    pub boost: Option<f64>,
}

impl Default for Rule<'_> {
    fn default() -> Self {
        Self {
            name: "rule",
            priority: 100,
            reservoir: 0,
            rate: 0.0,
            service_name: "*",
            resource_arn: "*",
            url_path: "*",
            http_method: "*",
            boost: None,
        }
    }
}

pub async fn xray(moto: &Moto, account: &str) -> aws_sdk_xray::Client {
    aws_sdk_xray::Client::new(&moto.account_config(account, REGION).await)
}

pub async fn create_rule(moto: &Moto, account: &str, r: Rule<'_>) {
    use aws_sdk_xray::types::{SamplingRateBoost, SamplingRule};
    let boost = r.boost.map(|max| {
        SamplingRateBoost::builder()
            .max_rate(max)
            .cooldown_window_minutes(1)
            .build()
    });
    let rule = SamplingRule::builder()
        .rule_name(r.name)
        .priority(r.priority)
        .reservoir_size(r.reservoir)
        .fixed_rate(r.rate)
        .service_name(r.service_name)
        .service_type("*")
        .resource_arn(r.resource_arn)
        .host("*")
        .http_method(r.http_method)
        .url_path(r.url_path)
        .version(1)
        .set_sampling_rate_boost(boost)
        .build()
        .unwrap();
    xray(moto, account)
        .await
        .create_sampling_rule()
        .sampling_rule(rule)
        .send()
        .await
        .unwrap();
}

/// Sets `rule`'s reservoir and rate (the Default rule included).
pub async fn update_rule(moto: &Moto, account: &str, rule: &str, reservoir: i32, rate: f64) {
    let update = aws_sdk_xray::types::SamplingRuleUpdate::builder()
        .rule_name(rule)
        .reservoir_size(reservoir)
        .fixed_rate(rate)
        .build();
    xray(moto, account)
        .await
        .update_sampling_rule()
        .sampling_rule_update(update)
        .send()
        .await
        .unwrap();
}

/// The management account's API `name` with these traced stages (and one
/// untraced `off` stage), Security Hub on.
async fn seed(moto: &Moto, name: &str, traced: &[&str]) -> String {
    let cfg = moto.account_config(MANAGEMENT, REGION).await;
    enable_security_hub(&cfg).await;
    let mut stages: Vec<(&str, Tracing)> = traced.iter().map(|s| (*s, Some(true))).collect();
    stages.push(("off", Some(false)));
    create_api(&cfg, name, &stages).await
}

/// The sampling findings by stage: (compliance, record state, rule).
async fn sampling(moto: &Moto) -> Vec<(String, String, String, String)> {
    findings(moto, MANAGEMENT, REGION)
        .await
        .into_iter()
        .filter(|f| f.generator_id == SAMPLING)
        .map(|f| {
            let rule = f
                .product_fields
                .get("apigw-tracing/scanner/SamplingRule")
                .cloned()
                .unwrap_or_default();
            let stage = f.stage().split('/').nth(1).unwrap_or_default().to_owned();
            (stage, f.compliance, f.record_state, rule)
        })
        .collect()
}

fn row(stage: &str, compliance: &str, state: &str, rule: &str) -> (String, String, String, String) {
    (stage.into(), compliance.into(), state.into(), rule.into())
}

async fn scan(moto: &Moto) -> apigw_tracing::report::Summary {
    scan_with(
        moto,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            REGION,
            "--apigw-rps",
            "50",
        ],
    )
    .await
    .summary
}

#[tokio::test]
async fn a_0_0_rule_blinds_the_stages_it_matches_by_name_or_either_arn_form() {
    let moto = Moto::start();
    let api = seed(&moto, "orders", &["prod", "dev", "qa", "live"]).await;
    let rules = [
        ("by-name", "orders/prod", "*".to_owned()),
        (
            "by-execute-api-arn",
            "*",
            format!("arn:aws:execute-api:{REGION}:{MANAGEMENT}:{api}/dev"),
        ),
        (
            "by-apigateway-arn",
            "*",
            format!("arn:aws:apigateway:{REGION}::/restapis/{api}/stages/qa"),
        ),
    ];
    for (name, service_name, arn) in &rules {
        let rule = Rule {
            name,
            service_name,
            resource_arn: arn,
            ..Rule::default()
        };
        create_rule(&moto, MANAGEMENT, rule).await;
    }
    let s = scan(&moto).await;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    assert!(s.sampling);
    assert_eq!(
        (
            s.totals.sampling,
            s.totals.sampling_failed,
            s.totals.sampling_warning
        ),
        (4, 3, 0),
        "{}",
        s.render_table()
    );
    assert!(s
        .render_table()
        .contains("sampling: 4 traced stage(s), 3 FAILED (blind)"));
    // The cost, per account-region with a traced stage: the rules, paged
    // (4 rules, the kit's pages of 2: 2 calls), and one statistics read.
    let calls = |op: &str| s.requests.get(op).map_or(0, |c| c.calls);
    assert_eq!(
        (
            calls("XRay.GetSamplingRules"),
            calls("XRay.GetSamplingStatisticSummaries")
        ),
        (2, 1)
    );
    assert_eq!(
        sampling(&moto).await,
        [
            row("dev", "FAILED", "ACTIVE", "by-execute-api-arn"),
            row("live", "PASSED", "ACTIVE", "Default"),
            row("prod", "FAILED", "ACTIVE", "by-name"),
            row("qa", "FAILED", "ACTIVE", "by-apigateway-arn"),
        ]
    );
    // The stage rule is untouched by sampling: traced stages pass it.
    let stage_findings: Vec<(String, String)> = findings(&moto, MANAGEMENT, REGION)
        .await
        .into_iter()
        .filter(|f| f.generator_id == STAGE_RULE)
        .map(|f| (f.stage(), f.compliance))
        .collect();
    assert_eq!(stage_findings.len(), 5);
    assert!(stage_findings
        .iter()
        .all(|(s, c)| (c == "FAILED") == s.ends_with("/off")));
}

#[tokio::test]
async fn conditional_rules_in_front_warn_or_are_named_exclusions_and_priority_decides() {
    let moto = Moto::start();
    seed(&moto, "shop", &["a", "b", "c", "d"]).await;
    // a: a POST-only recorder in front of a 0/0 catch-all for it: WARNING.
    let rules = [
        Rule {
            name: "a-posts",
            priority: 1,
            reservoir: 1,
            rate: 0.1,
            service_name: "shop/a",
            http_method: "POST",
            ..Rule::default()
        },
        Rule {
            name: "a-rest",
            priority: 2,
            service_name: "shop/a",
            ..Rule::default()
        },
        // b: a /health 0/0 exclusion in front of Default: PASSED.
        Rule {
            name: "b-health",
            priority: 1,
            service_name: "shop/b",
            url_path: "/health",
            ..Rule::default()
        },
        // c: a boost is all it records: WARNING.
        Rule {
            name: "c-boost",
            priority: 3,
            service_name: "shop/c",
            boost: Some(0.5),
            ..Rule::default()
        },
        // d: the recording rule comes first by priority; the 0/0 one after.
        Rule {
            name: "d-records",
            priority: 4,
            reservoir: 1,
            rate: 0.05,
            service_name: "shop/d",
            ..Rule::default()
        },
        Rule {
            name: "d-zero",
            priority: 5,
            service_name: "shop/d",
            ..Rule::default()
        },
    ];
    for r in rules {
        create_rule(&moto, MANAGEMENT, r).await;
    }
    let s = scan(&moto).await;
    assert_eq!(
        (s.totals.sampling_failed, s.totals.sampling_warning),
        (0, 2),
        "{}",
        s.render_table()
    );
    assert_eq!(
        sampling(&moto).await,
        [
            row("a", "WARNING", "ACTIVE", "a-rest"),
            row("b", "PASSED", "ACTIVE", "Default"),
            row("c", "WARNING", "ACTIVE", "c-boost"),
            row("d", "PASSED", "ACTIVE", "d-records"),
        ]
    );
    let b = findings(&moto, MANAGEMENT, REGION)
        .await
        .into_iter()
        .find(|f| f.generator_id == SAMPLING && f.stage().ends_with("/b"))
        .unwrap();
    assert!(b.description.contains("'b-health'"), "{}", b.description);
    assert!(
        b.description.contains("URLPath /health"),
        "{}",
        b.description
    );
    assert_eq!(
        b.product_fields["apigw-tracing/scanner/SamplingRules"],
        "b-health, Default"
    );
}

#[tokio::test]
async fn a_0_0_default_rule_blinds_every_traced_stage_and_the_fix_makes_them_pass() {
    let moto = Moto::start();
    seed(&moto, "orders", &["prod", "dev"]).await;
    scan(&moto).await;
    let stage_findings_before: Vec<Landed> = findings(&moto, MANAGEMENT, REGION)
        .await
        .into_iter()
        .filter(|f| f.generator_id == STAGE_RULE)
        .map(|f| Landed {
            updated_at: String::new(),
            ..f
        })
        .collect();
    update_rule(&moto, MANAGEMENT, "Default", 0, 0.0).await;
    moto.xray
        .set_statistics(MANAGEMENT, REGION, "Default", 420, 0);
    let s = scan(&moto).await;
    assert_eq!(s.totals.sampling_failed, 2, "{}", s.render_table());
    assert_eq!(
        sampling(&moto).await,
        [
            row("dev", "FAILED", "ACTIVE", "Default"),
            row("prod", "FAILED", "ACTIVE", "Default"),
        ]
    );
    let all = findings(&moto, MANAGEMENT, REGION).await;
    let prod = all
        .iter()
        .find(|f| f.generator_id == SAMPLING && f.stage().ends_with("/prod"))
        .unwrap();
    assert!(
        prod.description.contains("matched 420 request(s)"),
        "{}",
        prod.description
    );
    let stage_findings_after: Vec<Landed> = all
        .into_iter()
        .filter(|f| f.generator_id == STAGE_RULE)
        .map(|f| Landed {
            updated_at: String::new(),
            ..f
        })
        .collect();
    assert_eq!(stage_findings_after, stage_findings_before);
    // `--fail-on-findings` exits 3 on a blind stage, through the real
    // binary and AWS_ENDPOINT_URL_XRAY.
    let out = crate::harness::cli_command(
        &moto,
        &moto.endpoint,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            REGION,
            "--dry-run",
            "--fail-on-findings",
            "--format",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["totals"]["sampling_failed"], 2);
    // The fix the finding names, then a scan: PASSED.
    update_rule(&moto, MANAGEMENT, "Default", 1, 0.05).await;
    let s = scan(&moto).await;
    assert_eq!(s.totals.sampling_failed, 0);
    assert_eq!(
        sampling(&moto).await,
        [
            row("dev", "PASSED", "ACTIVE", "Default"),
            row("prod", "PASSED", "ACTIVE", "Default"),
        ]
    );
}

#[tokio::test]
async fn unreadable_rules_change_nothing_and_tracing_off_archives_the_sampling_finding() {
    let moto = Moto::start();
    let api = seed(&moto, "orders", &["prod", "dev"]).await;
    scan(&moto).await;
    let before = sampling(&moto).await;
    assert_eq!(before.len(), 2);
    let first = findings(&moto, MANAGEMENT, REGION).await;
    // An old member role: X-Ray refuses, through the fault proxy in front
    // of the kit.
    let proxy = FaultProxy::start(&moto.xray.endpoint);
    proxy.add(
        |_| true,
        Fault::rest_json(
            403,
            "AccessDeniedException",
            "not authorized to perform: xray:GetSamplingRules",
        ),
        None,
    );
    update_rule(&moto, MANAGEMENT, "Default", 0, 0.0).await;
    let cfg = config(&[
        "--accounts",
        MANAGEMENT,
        "--regions",
        REGION,
        "--apigw-rps",
        "50",
    ]);
    let sdk = moto
        .sdk_config("us-east-1")
        .await
        .into_builder()
        .service_config(Endpoints {
            all: moto.endpoint.clone(),
            xray: proxy.endpoint.clone(),
        })
        .build();
    let env = apigw_tracing::aws::AwsEnv::from_sdk_config(sdk, &cfg);
    let out = apigw_tracing::scan::run(
        &env,
        &cfg,
        &apigw_tracing::trigger::ScanRequest::default(),
        apigw_tracing::scan::ScanOptions::default(),
    )
    .await
    .unwrap();
    let s = out.summary;
    assert_eq!(s.status, RunStatus::Complete, "{}", s.render_table());
    assert_eq!(s.totals.sampling_unknown, 2);
    let w: Vec<_> = s
        .warnings
        .iter()
        .filter(|w| w.kind == ErrorKind::SamplingUnreadable)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", s.warnings);
    assert_eq!(w[0].code.as_deref(), Some("AccessDeniedException"));
    assert!(
        w[0].message.contains("xray:GetSamplingRules"),
        "{}",
        w[0].message
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["warnings"][0]["kind"], "sampling_unreadable");
    // Sampling findings exactly as they were; stage findings refreshed.
    let after = findings(&moto, MANAGEMENT, REGION).await;
    for f in &first {
        let now = after.iter().find(|g| g.id == f.id).unwrap();
        if f.generator_id == SAMPLING {
            assert_eq!(now, f);
        } else {
            assert_ne!(now.updated_at, f.updated_at, "{}", f.id);
        }
    }
    // Tracing off on dev: its sampling finding is archived (the stage
    // finding carries the story); `--sampling off` reads no rule.
    set_tracing(
        &moto.account_config(MANAGEMENT, REGION).await,
        &api,
        "dev",
        false,
    )
    .await;
    update_rule(&moto, MANAGEMENT, "Default", 1, 0.05).await;
    let s = scan(&moto).await;
    assert_eq!(s.totals.sampling_archived, 1, "{}", s.render_table());
    assert_eq!(
        sampling(&moto).await,
        [
            row("dev", "PASSED", "ARCHIVED", "Default"),
            row("prod", "PASSED", "ACTIVE", "Default"),
        ]
    );
    let calls = moto.xray.calls().len();
    let off = scan_with(
        &moto,
        &[
            "--accounts",
            MANAGEMENT,
            "--regions",
            REGION,
            "--sampling",
            "off",
        ],
    )
    .await
    .summary;
    assert!(!off.sampling);
    assert_eq!(
        moto.xray.calls().len(),
        calls,
        "--sampling off asks X-Ray nothing"
    );
}
