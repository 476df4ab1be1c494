//! `make demo`: a local moto AWS seeded with a demo organization, scanned by
//! the real `apigw-tracing` binary. No AWS account needed; nothing leaves
//! 127.0.0.1.
//!
//! Usage: demo <path to the apigw-tracing binary>

#[path = "../../tests/it/support.rs"]
mod support;

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
        "{:<14} {:<10} {:<8} {:<14} {:<8} RESOURCE",
        "HUB ACCOUNT", "REGION", "STATUS", "SEVERITY", "STATE"
    );
    let mut total = 0;
    for account in &accounts {
        for region in REGIONS {
            for f in findings(&moto, account, region).await {
                total += 1;
                println!(
                    "{:<14} {:<10} {:<8} {:<14} {:<8} {}",
                    account, region, f.compliance, f.severity, f.record_state, f.resource_id
                );
            }
        }
    }
    println!(
        "\n{total} findings in {} Security Hubs.",
        accounts.len() * REGIONS.len()
    );

    // Fix: what remediation would change (a dry run writes nothing).
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
    if status.success() && remediate.success() && check.code() == Some(3) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
