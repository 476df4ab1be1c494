use std::process::Output;

use apigw_tracing::asff::Finding;
use serde_json::Value;

use crate::harness::*;
use crate::support::*;

/// `apigw-tracing scan ARGS`, in this process.
async fn cli(moto: &Moto, args: &[&str]) -> Ran {
    let argv: Vec<&str> = std::iter::once("scan")
        .chain(args.iter().copied())
        .collect();
    run_cli(moto, &moto.endpoint, &argv).await
}

fn stderr(o: &Ran) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_clear_message() {
    let moto = Moto::start();
    for (args, want) in [
        (
            vec!["--accounts", "1234"],
            "invalid AWS account id \"1234\"",
        ),
        (vec!["--regions", "eu-west-99"], "not a known AWS region"),
        (vec!["--format", "xml"], "invalid value 'xml'"),
    ] {
        let out = cli(&moto, &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn json_asff_and_exit_codes() {
    let moto = Moto::start();
    let members = create_org(&moto, 1).await;
    let cfg = moto.account_config(&members[0], "eu-west-1").await;
    create_api(&cfg, "svc", &[("prod", None), ("beta", Some(true))]).await;

    // --dry-run --format asff: the findings exactly as they would be sent; nothing lands.
    let out = cli(
        &moto,
        &[
            "--regions",
            "eu-west-1",
            "--dry-run",
            "--format",
            "asff",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asff: Vec<Finding> = serde_json::from_slice(&out.stdout).unwrap();
    // Two stage findings, and the traced stage's sampling finding.
    assert_eq!(asff.len(), 3);
    for f in &asff {
        apigw_tracing::asff::validate(f).unwrap();
        assert_eq!(f.aws_account_id, members[0]);
    }
    assert!(findings(&moto, &members[0], "eu-west-1").await.is_empty());

    // --format json: the summary; findings land; exit 0.
    let out = cli(
        &moto,
        &[
            "--regions",
            "eu-west-1",
            "--format",
            "json",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["totals"]["failing"], 1);
    assert_eq!(summary["sampling"], true);
    assert_eq!(findings(&moto, &members[0], "eu-west-1").await.len(), 3);

    // --fail-on-findings: exit 3 while a stage fails; the table names it.
    let out = cli(
        &moto,
        &[
            "--regions",
            "eu-west-1",
            "--fail-on-findings",
            "--apigw-rps",
            "50",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("status: complete"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&members[0]) && l.contains("eu-west-1")),
        "{table}"
    );

    // The same through environment variables only (how the Lambda is configured).
    let mut cmd = cli_command(&moto, &moto.endpoint, &[]);
    cmd.env("APIGW_TRACING_REGIONS", "eu-west-1")
        .env("APIGW_TRACING_ACCOUNTS", &members[0])
        .env("APIGW_TRACING_FORMAT", "json")
        .env("APIGW_TRACING_DRY_RUN", "true");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            summary["dry_run"].as_bool(),
            summary["totals"]["account_regions"].as_u64()
        ),
        (Some(true), Some(1))
    );
}

#[tokio::test]
async fn an_account_that_cannot_be_assumed_makes_the_run_partial_exit_1() {
    let moto = Moto::start();
    let proxy = crate::proxy::FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 2).await;
    one_failing_stage_each(&moto, &members, "eu-west-1").await;
    proxy.add(
        crate::proxy::assume_role_in(&members[0]),
        crate::proxy::Fault::sts_access_denied(),
        None,
    );
    let args = [
        "--regions",
        "eu-west-1",
        "--format",
        "json",
        "--apigw-rps",
        "50",
    ];
    let argv: Vec<&str> = std::iter::once("scan").chain(args).collect();
    let out = run_cli(&moto, &proxy.endpoint, &argv).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["status"], "partial");
    assert_eq!(summary["errors"][0]["kind"], "assume_role");
    assert_eq!(summary["errors"][0]["account"], members[0].as_str());
    assert_eq!(summary["errors"][0]["code"], "AccessDenied");
    // The other member and the management account were scanned all the same.
    assert_eq!(summary["totals"]["account_regions"], 2);
    assert_eq!(findings(&moto, &members[1], "eu-west-1").await.len(), 1);
    assert!(findings(&moto, &members[0], "eu-west-1").await.is_empty());
}

#[tokio::test]
async fn a_reader_that_stops_reading_ends_the_output_quietly() {
    let moto = Moto::start();
    create_api(
        &moto.account_config(MANAGEMENT, "eu-west-1").await,
        "svc",
        &[("prod", None)],
    )
    .await;
    for format in ["table", "json", "asff"] {
        let mut child = cli_command(
            &moto,
            &moto.endpoint,
            &["--regions", "eu-west-1", "--dry-run", "--format", format],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        // As `| head -0` would: the reader is gone before anything is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = stderr_of(&out);
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
    }
}

#[tokio::test]
async fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_apigw__tracing()"),
        ("zsh", "#compdef apigw-tracing"),
        ("fish", "complete -c apigw-tracing"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = run_offline(&["completions", shell]).await;
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(
            script.contains("fail-on-findings"),
            "{shell}: flags are completed"
        );
    }
    let bad = run_offline(&["completions", "tcsh"]).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value 'tcsh'"));
}

/// `scan --format ocsf`: one OCSF Compliance Finding (class 2003) per stage,
/// with the ASFF finding's status, resource and remediation, every event
/// validated offline by the OCSF models of py-ocsf-models
/// (`tests/ocsf/validate.py`, in `./.venv-ocsf`, which `make it` installs).
#[tokio::test]
async fn ocsf_events_carry_the_findings_and_validate_against_ocsf() {
    let moto = Moto::start();
    let members = create_org(&moto, 1).await;
    let cfg = moto.account_config(&members[0], "eu-west-1").await;
    let api = create_api(&cfg, "svc", &[("prod", None), ("beta", Some(true))]).await;
    put_stage(
        &cfg,
        &api,
        "legacy",
        false,
        &[("apigw-tracing:exempt", "vendor")],
    )
    .await;
    let args = [
        "--regions",
        "eu-west-1",
        "--dry-run",
        "--apigw-rps",
        "50",
        "--format",
    ];
    let ocsf = cli(&moto, &[&args[..], &["ocsf"]].concat()).await;
    assert_eq!(ocsf.status.code(), Some(0), "{}", stderr(&ocsf));
    let events: Vec<Value> = serde_json::from_slice(&ocsf.stdout).unwrap();
    let asff = cli(&moto, &[&args[..], &["asff"]].concat()).await;
    let findings: Vec<Finding> = serde_json::from_slice(&asff.stdout).unwrap();
    // prod, beta, legacy, and beta's sampling finding.
    assert_eq!(events.len(), 4);
    let mut got: Vec<(String, String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["finding_info"]["uid"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
                e["resources"][0]["uid"].as_str().unwrap().to_owned(),
                e["remediation"]["desc"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String, String)> = findings
        .iter()
        .map(|f| {
            let status = match (f.compliance.status, f.record_state) {
                (apigw_tracing::asff::Compliance::Passed, _) => "Resolved",
                (_, apigw_tracing::asff::RecordState::Archived) => "Suppressed",
                _ => "New",
            };
            (
                f.id.clone(),
                status.to_owned(),
                f.resources[0].id.clone(),
                f.remediation.recommendation.text.clone(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
    let statuses: std::collections::BTreeSet<&str> = got.iter().map(|g| g.1.as_str()).collect();
    assert_eq!(
        statuses.len(),
        3,
        "New, Resolved and Suppressed: {statuses:?}"
    );

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ocsf-{}.json", std::process::id()));
    std::fs::write(&file, &ocsf.stdout).unwrap();
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-ocsf/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make it` (it installs py-ocsf-models there)",
        python.display()
    );
    let checked = std::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/ocsf/validate.py"
        ))
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(said.contains("4 event(s), 0 problem(s)"), "{said}");
}
