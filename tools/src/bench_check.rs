//! `make bench` (third part): `apigw-tracing check` on a generated
//! 5,000-resource CloudFormation template and a 5,000-resource Terraform
//! plan (best wall time of a few runs, the stages found, peak memory), then
//! on a ~50 MB template and plan: peak memory against the input's size.
//!
//! Usage: bench_check <apigw-tracing binary> [RESOURCES] [LARGE_MB]

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

/// Peak RSS of one `check --format json FILE`, in KiB. Its output goes to
/// /dev/null: parsed here, a large report would swell this process, and a
/// process spawned later starts from its parent's peak (`wait4` counts it).
fn peak_rss_kib(bin: &str, file: &std::path::Path) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    // Reaped below by wait4, which also gives its peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin)
        .args(["check", "--format", "json"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run apigw-tracing check");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let code = std::process::ExitStatus::from_raw(status).code();
    assert!(matches!(code, Some(0 | 3)), "check exited {code:?}");
    usage.ru_maxrss
}

fn template(n: usize) -> String {
    let mut t = String::from("AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  Tracing:\n    Type: String\n    Default: \"true\"\nResources:\n");
    for i in 0..n {
        let _ = match i % 4 {
            0 => write!(t, "  Api{i}:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n      Name: api-{i}\n"),
            1 => write!(t, "  Stage{i}:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      RestApiId: !Ref Api{}\n      StageName: prod\n      TracingEnabled: true\n", i - 1),
            2 => write!(t, "  Stage{i}:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      RestApiId: !Ref Api{}\n      StageName: dev\n      TracingEnabled: !Ref Tracing\n      Tags:\n        - Key: team\n          Value: t{i}\n", i - 2),
            _ => write!(t, "  Stage{i}:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      RestApiId: !Ref Api{}\n      StageName: !Sub \"qa-${{AWS::StackName}}\"\n", i - 3),
        };
    }
    t
}

fn plan(n: usize) -> String {
    let changes: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let (kind, after) = if i % 3 == 0 {
                (
                    "aws_api_gateway_rest_api",
                    serde_json::json!({"name": format!("api-{i}")}),
                )
            } else {
                (
                    "aws_api_gateway_stage",
                    serde_json::json!({
                        "stage_name": format!("s{i}"), "xray_tracing_enabled": i % 3 == 1,
                        "tags": {"team": "payments"}, "rest_api_id": null, "deployment_id": null,
                        "variables": null, "description": null, "cache_cluster_enabled": false
                    }),
                )
            };
            serde_json::json!({
                "address": format!("module.apis[\"{i}\"].{kind}.this"),
                "module_address": format!("module.apis[\"{i}\"]"),
                "mode": "managed", "type": kind, "name": "this",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {"actions": ["create"], "before": null, "after": after,
                           "after_unknown": {"id": true, "arn": true, "invoke_url": true},
                           "before_sensitive": false, "after_sensitive": {"tags": {}}}
            })
        })
        .collect();
    serde_json::json!({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": changes}).to_string()
}

/// Best of `runs` wall times, and the summary of the last run.
fn time_check(bin: &str, file: &std::path::Path, runs: usize) -> (Duration, serde_json::Value) {
    let mut best = Duration::MAX;
    let mut summary = serde_json::Value::Null;
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(bin)
            .args(["check", "--format", "json"])
            .arg(file)
            .output()
            .expect("run apigw-tracing check");
        best = best.min(start.elapsed());
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        summary = v["summary"].clone();
    }
    (best, summary)
}

/// Writes a generated input in a process of its own: a process's peak RSS,
/// as `wait4` reports it, includes what its parent held when it was
/// spawned, so the measuring process must never hold a large input.
fn generate(kind: &str, n: usize, path: &std::path::Path) {
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--generate", kind, &n.to_string()])
        .arg(path)
        .status()
        .expect("run the generator");
    assert!(status.success(), "generating {kind}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--generate") {
        let n: usize = args[3].parse().expect("N");
        let text = match args[2].as_str() {
            "template" => template(n),
            _ => plan(n),
        };
        std::fs::write(&args[4], text).expect("write the input");
        return;
    }
    let bin = args
        .get(1)
        .expect("usage: bench_check <apigw-tracing> [RESOURCES] [LARGE_MB]")
        .clone();
    let n: usize = args.get(2).map_or(5000, |s| s.parse().expect("RESOURCES"));
    let dir =
        std::env::temp_dir().join(format!("apigw-tracing-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = dir.join("template.yaml");
    let p = dir.join("plan.json");
    generate("template", n, &t);
    generate("plan", n, &p);
    println!("== check on generated inputs, {n} resources each (best of 5 runs, release build)");
    for (what, file) in [
        ("CloudFormation template (YAML)", &t),
        ("Terraform plan (JSON)", &p),
    ] {
        let bytes = std::fs::metadata(file).unwrap().len();
        let (best, s) = time_check(&bin, file, 5);
        let rss = peak_rss_kib(&bin, file);
        println!(
            "   {what:<31} {:>8.1} KiB  {:>7.1} ms  peak RSS {:>7.1} MiB  stages {} (failed {}, passed {}, unknown {})  target < 1000 ms: {}",
            bytes as f64 / 1024.0,
            best.as_secs_f64() * 1000.0,
            rss as f64 / 1024.0,
            s["stages"], s["failed"], s["passed"], s["unknown"],
            if best < Duration::from_secs(1) { "met" } else { "MISSED" }
        );
    }
    // Memory against size: inputs of about `large_mb` MB (one run each).
    let large_mb: usize = args.get(3).map_or(50, |s| s.parse().expect("LARGE_MB"));
    let per_resource = std::fs::metadata(&t).unwrap().len() as usize / n.max(1);
    let big_n = large_mb * 1_000_000 / per_resource.max(1);
    generate("template", big_n, &t);
    let per_change = std::fs::metadata(&p).unwrap().len() as usize / n.max(1);
    generate("plan", large_mb * 1_000_000 / per_change.max(1), &p);
    println!("== check on ~{large_mb} MB inputs: peak memory (target: a few times the input; under 1 GiB for the template)");
    for (what, file) in [
        ("CloudFormation template (YAML)", &t),
        ("Terraform plan (JSON)", &p),
    ] {
        let bytes = std::fs::metadata(file).unwrap().len();
        let start = Instant::now();
        let rss = peak_rss_kib(&bin, file);
        let ratio = (rss as f64 * 1024.0) / bytes as f64;
        println!(
            "   {what:<31} {:>7.1} MB  {:>7.1} s  peak RSS {:>7.1} MiB  ({ratio:.1}x the input)  under 1 GiB: {}",
            bytes as f64 / 1e6,
            start.elapsed().as_secs_f64(),
            rss as f64 / 1024.0,
            if rss < 1024 * 1024 { "yes" } else { "NO" }
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
