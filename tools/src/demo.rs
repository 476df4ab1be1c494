//! `make demo`: a local moto AWS seeded with a demo organization, scanned by
//! the real `apigw-tracing` binary. No AWS account needed; nothing leaves
//! 127.0.0.1.
//!
//! Usage: demo <path to the apigw-tracing binary>

#[path = "../../tests/it/lambda_kit.rs"]
mod lambda_kit;
#[path = "../../tests/it/loopback.rs"]
mod loopback;
#[path = "../../tests/it/support.rs"]
mod support;
#[path = "../../tests/it/xray_kit.rs"]
mod xray_kit;

use std::process::Command;

use support::*;

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn main() -> std::process::ExitCode {
    let bin = std::env::args()
        .nth(1)
        .expect("usage: demo <path to apigw-tracing>");
    // GetFindings output is deep: poll on a thread with a large stack.
    apigw_tracing::logging::block_on(move || demo(bin)).expect("demo thread")
}

async fn demo(bin: String) -> std::process::ExitCode {
    println!("== starting moto_server on a free loopback port");
    let moto = Moto::start();
    println!("   {}", moto.endpoint);

    println!(
        "== seeding a demo organization: management {MANAGEMENT} + 3 members, regions {REGIONS:?}"
    );
    let members = create_org(&moto, 3).await;
    let mut accounts = vec![MANAGEMENT.to_owned()];
    accounts.extend(members);
    for (i, account) in accounts.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            let cfg = moto.account_config(account, region).await;
            enable_security_hub(&cfg).await;
            let stages: Vec<(&str, Tracing)> = match (i + r) % 3 {
                0 => vec![("prod", Some(true)), ("staging", None)],
                1 => vec![("prod", Some(false)), ("dev", None)],
                _ => vec![("prod", Some(true))],
            };
            create_api(&cfg, &format!("orders-{i}"), &stages).await;
            create_api(&cfg, "internal-no-stages", &[]).await;
            // One accepted exception: a vendor gateway, tagged by its owners.
            let legacy = if i == 1 && r == 0 {
                let api = create_api(&cfg, "vendor-gateway", &[]).await;
                put_stage(
                    &cfg,
                    &api,
                    "live",
                    false,
                    &[("apigw-tracing:exempt", "vendor gateway, no X-Ray support")],
                )
                .await;
                ", vendor-gateway [live=false, tag apigw-tracing:exempt]"
            } else {
                ""
            };
            let s: Vec<String> = stages
                .iter()
                .map(|(n, t)| format!("{n}={}", t.map_or("unset".into(), |b| b.to_string())))
                .collect();
            println!(
                "   {account} {region}: orders-{i} [{}], internal-no-stages []{legacy}",
                s.join(", ")
            );
        }
    }

    // Traced, and blind: a sampling rule "to save cost" records nothing of
    // orders-2's stages (X-Ray's API on the test kit's endpoint: moto has
    // none).
    let (blind_account, blind_region) = (accounts[2].clone(), REGIONS[0]);
    let rule = aws_sdk_xray::types::SamplingRule::builder()
        .rule_name("save-cost")
        .priority(100)
        .reservoir_size(0)
        .fixed_rate(0.0)
        .service_name("orders-2/*")
        .service_type("*")
        .resource_arn("*")
        .host("*")
        .http_method("*")
        .url_path("*")
        .version(1)
        .build()
        .expect("a whole rule");
    aws_sdk_xray::Client::new(&moto.account_config(&blind_account, blind_region).await)
        .create_sampling_rule()
        .sampling_rule(rule)
        .send()
        .await
        .expect("create the demo sampling rule");
    println!(
        "   {blind_account} {blind_region}: X-Ray sampling rule save-cost (reservoir 0, rate 0) matches orders-2/*: its traced prod stage records nothing"
    );

    println!("\n== apigw-tracing scan --regions {}\n", REGIONS.join(","));
    let mut cmd = Command::new(&bin);
    cmd.args(["scan", "--regions", &REGIONS.join(","), "--apigw-rps", "20"]);
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    let status = cmd.status().expect("run apigw-tracing");
    println!("(exit status {})", status.code().unwrap_or(-1));

    println!(
        "\n== where each finding landed (each account's own Security Hub, in the stage's region)\n"
    );
    println!(
        "{:<14} {:<10} {:<22} {:<8} {:<14} {:<8} RESOURCE",
        "HUB ACCOUNT", "REGION", "RULE", "STATUS", "SEVERITY", "STATE"
    );
    let mut total = 0;
    let mut blind = Vec::new();
    for account in &accounts {
        for region in REGIONS {
            for f in findings(&moto, account, region).await {
                total += 1;
                let rule = f.generator_id.trim_start_matches("apigw-tracing/");
                println!(
                    "{:<14} {:<10} {:<22} {:<8} {:<14} {:<8} {}",
                    account, region, rule, f.compliance, f.severity, f.record_state, f.resource_id
                );
                if rule == "sampling" && f.compliance == "FAILED" {
                    blind.push(f);
                }
            }
        }
    }
    println!("\n== traced, and blind: the sampling findings that FAILED\n");
    for f in &blind {
        println!("   {} {}: {}", f.account, f.stage(), f.description);
    }
    println!(
        "\n{total} findings in {} Security Hubs.",
        accounts.len() * REGIONS.len()
    );

    // What the fix would cost: 14 days of traffic for one failing stage
    // (half a request a second), in moto's CloudWatch.
    let cw = aws_sdk_cloudwatch::Client::new(&moto.account_config(MANAGEMENT, REGIONS[0]).await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64();
    let points: Vec<aws_sdk_cloudwatch::types::MetricDatum> = (0..14 * 24)
        .map(|h| {
            let dim = |n: &str, v: &str| {
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name(n)
                    .value(v)
                    .build()
            };
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("Count")
                .dimensions(dim("ApiName", "orders-0"))
                .dimensions(dim("Stage", "staging"))
                .timestamp(aws_smithy_types::DateTime::from_secs_f64(
                    now - (f64::from(h) + 0.5) * 3600.0,
                ))
                .value(1800.0)
                .build()
        })
        .collect();
    cw.put_metric_data()
        .namespace("AWS/ApiGateway")
        .set_metric_data(Some(points))
        .send()
        .await
        .expect("seed the demo's traffic");
    println!(
        "\n== traffic: {MANAGEMENT} {} orders-0/staging served 0.5 requests/s for 14 days (CloudWatch AWS/ApiGateway Count)",
        REGIONS[0]
    );

    // Fix: what remediation would change (a dry run writes nothing), and
    // what tracing each stage would cost.
    println!(
        "\n== apigw-tracing remediate --regions {} (dry run: add --apply to change)\n",
        REGIONS.join(",")
    );
    let mut cmd = Command::new(&bin);
    cmd.args([
        "remediate",
        "--regions",
        &REGIONS.join(","),
        "--apigw-rps",
        "20",
    ]);
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    let remediate = cmd.status().expect("run apigw-tracing remediate");

    // The whole path: a traced stage whose functions do not all trace.
    let region = REGIONS[0];
    println!("\n== the whole trace path: {MANAGEMENT} {region} gets `checkout` (prod traced) in front of `cart` (Active) and `payments` (PassThrough, behind a PassThrough authorizer `authz`)");
    let cfg = moto.account_config(MANAGEMENT, region).await;
    let role = lambda_kit::ensure_role(&cfg).await;
    let cart = lambda_kit::create_function(&cfg, "cart", true, &role).await;
    let payments = lambda_kit::create_function(&cfg, "payments", false, &role).await;
    let authz = lambda_kit::create_function(&cfg, "authz", false, &role).await;
    let uri = |arn: &str| lambda_kit::lambda_uri(region, arn);
    lambda_kit::create_wired_api(
        &cfg,
        "checkout",
        &[
            lambda_kit::Route::new("cart", lambda_kit::Target::Lambda(uri(&cart))),
            lambda_kit::Route {
                authorizer: Some(uri(&authz)),
                ..lambda_kit::Route::new("pay", lambda_kit::Target::Lambda(uri(&payments)))
            },
        ],
        &[("prod", true, &[])],
    )
    .await;
    let scope = [
        "--regions",
        region,
        "--accounts",
        MANAGEMENT,
        "--apigw-rps",
        "20",
    ];
    println!("\n== apigw-tracing scan {} --trace-path\n", scope.join(" "));
    let mut cmd = Command::new(&bin);
    cmd.arg("scan").args(scope).arg("--trace-path");
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    let path_scan = cmd.status().expect("run apigw-tracing scan --trace-path");
    for f in findings(&moto, MANAGEMENT, region).await {
        if f.generator_id == "apigw-tracing/trace-path" {
            println!("   {} {}: {}", f.compliance, f.stage(), f.description);
        }
    }
    println!(
        "\n== apigw-tracing remediate {} --trace-path (dry run)\n",
        scope.join(" ")
    );
    let mut cmd = Command::new(&bin);
    cmd.arg("remediate").args(scope).arg("--trace-path");
    for (k, v) in moto.cli_env() {
        cmd.env(k, v);
    }
    let path_fix = cmd
        .status()
        .expect("run apigw-tracing remediate --trace-path");

    // Prevent: the same rule on a template, before deploy (exit 3: a stage fails).
    let template = "tests/fixtures/check/sam/template.yaml";
    println!("\n== apigw-tracing check {template}\n");
    let check = Command::new(&bin)
        .args(["check", template])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .expect("run apigw-tracing check");
    println!(
        "(exit status {}: a stage fails the check)",
        check.code().unwrap_or(-1)
    );
    println!("\nStopping moto.");
    drop(moto);
    if status.success()
        && blind.len() == 1
        && remediate.success()
        && path_scan.success()
        && path_fix.success()
        && check.code() == Some(3)
    {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
