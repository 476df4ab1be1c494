//! `make bench` (third part): `apigw-tracing check` on a generated
//! 5,000-resource CloudFormation template and a 5,000-resource Terraform
//! plan (best wall time of a few runs, the stages found, peak memory), then
//! on a ~50 MB template and plan: peak memory against the input's size.
//! Also a generated Terraform source tree (RESOURCES resources over many
//! files and local modules). With `$CHECKOV` set (the Makefile points it at
//! `.venv-tools/bin/checkov`), checkov's own check for this rule
//! (CKV_AWS_73) runs on the same three inputs, timed the same way (one run:
//! it takes seconds), and the ratio is printed.
//!
//! Usage: bench_check <apigw-tracing or apigw-tracing-check binary> [RESOURCES] [LARGE_MB]

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
        .args(check_args(bin))
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

/// `check --format json` for `apigw-tracing`; `--format json` for the
/// gate's own binary (`apigw-tracing-check`, the same code without a
/// subcommand).
fn check_args(bin: &str) -> Vec<&'static str> {
    if bin.ends_with("apigw-tracing-check") {
        vec!["--format", "json"]
    } else {
        vec!["check", "--format", "json"]
    }
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

/// The smallest stage a template can hold: the most stages per byte, so
/// the report (one result a stage) weighs most against the input.
fn small_template(n: usize) -> String {
    let mut t = String::from("Resources:\n");
    for i in 0..n {
        let _ = write!(
            t,
            "  S{i}:\n    Type: AWS::ApiGateway::Stage\n    Properties: {{StageName: s}}\n"
        );
    }
    t
}

/// One `.tf` file of plain stages (the shape that was quadratic: each
/// block's line counted from byte 0).
fn plain_tf(n: usize) -> String {
    let mut t = String::new();
    for i in 0..n {
        let _ = write!(t, "resource \"aws_api_gateway_stage\" \"s{i}\" {{\n  rest_api_id   = \"api\"\n  deployment_id = \"d\"\n  stage_name    = \"s{i}\"\n}}\n");
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
    // planned_values as well, as a real plan has: checkov reads those.
    let modules: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "address": c["module_address"],
                "resources": [{
                    "address": c["address"], "mode": "managed", "type": c["type"], "name": "this",
                    "provider_name": c["provider_name"], "schema_version": 0,
                    "values": c["change"]["after"], "sensitive_values": {}
                }]
            })
        })
        .collect();
    serde_json::json!({
        "format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"child_modules": modules}},
        "resource_changes": changes
    })
    .to_string()
}

/// A Terraform root module calling 50 local modules, each holding
/// `n / 50` resources over files of 20: REST APIs and stages whose tracing
/// comes from a variable the root passes, a literal, or a `count`.
fn terraform_tree(n: usize, dir: &std::path::Path) {
    let modules = 50;
    let per_module = (n / modules).max(2);
    let mut root = String::from(
        "variable \"tracing\" {\n  default = true\n}\n\nlocals {\n  owner = \"platform\"\n}\n",
    );
    for m in 0..modules {
        let _ = write!(
            root,
            "\nmodule \"m{m}\" {{\n  source  = \"./modules/m{m}\"\n  tracing = var.tracing\n  name    = \"m{m}-${{local.owner}}\"\n}}\n"
        );
        let mdir = dir.join(format!("modules/m{m}"));
        std::fs::create_dir_all(&mdir).unwrap();
        std::fs::write(
            mdir.join("variables.tf"),
            "variable \"tracing\" {\n  type = bool\n}\n\nvariable \"name\" {\n  type = string\n}\n",
        )
        .unwrap();
        let mut file = String::new();
        for r in 0..per_module {
            let _ = match r % 4 {
                0 => write!(file, "resource \"aws_api_gateway_rest_api\" \"api{r}\" {{\n  name = \"${{var.name}}-{r}\"\n}}\n\n"),
                1 => write!(file, "resource \"aws_api_gateway_stage\" \"s{r}\" {{\n  rest_api_id          = aws_api_gateway_rest_api.api{}.id\n  deployment_id        = \"d\"\n  stage_name           = \"prod\"\n  xray_tracing_enabled = var.tracing\n  tags = {{\n    team = var.name\n  }}\n}}\n\n", r - 1),
                2 => write!(file, "resource \"aws_api_gateway_stage\" \"s{r}\" {{\n  rest_api_id   = aws_api_gateway_rest_api.api{}.id\n  deployment_id = \"d\"\n  stage_name    = \"dev\"\n}}\n\n", r - 2),
                _ => write!(file, "resource \"aws_api_gateway_stage\" \"s{r}\" {{\n  count                = 2\n  rest_api_id          = aws_api_gateway_rest_api.api{}.id\n  deployment_id        = \"d\"\n  stage_name           = \"qa${{count.index}}\"\n  xray_tracing_enabled = count.index == 0\n}}\n\n", r - 3),
            };
            if (r + 1) % 20 == 0 || r + 1 == per_module {
                std::fs::write(mdir.join(format!("api{r}.tf")), std::mem::take(&mut file)).unwrap();
            }
        }
    }
    std::fs::write(dir.join("main.tf"), root).unwrap();
}

/// Wall time of one checkov run of its X-Ray check on `target`, and the
/// resources it judged (passed + failed: proof it read the input).
fn time_checkov(
    checkov: &str,
    framework: &str,
    flag: &str,
    target: &std::path::Path,
) -> (Duration, usize) {
    let start = Instant::now();
    let out = Command::new(checkov)
        .args(["--compact", "--skip-download", "--check", "CKV_AWS_73"])
        .args(["--framework", framework, flag])
        .arg(target)
        .output()
        .expect("run checkov");
    let elapsed = start.elapsed();
    // 0: all passed; 1: a check failed (the generated inputs fail some).
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "checkov: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "Passed checks: N, Failed checks: M, Skipped checks: K"
    let text = String::from_utf8_lossy(&out.stdout);
    let count = |label: &str| -> usize {
        text.split(label)
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    (elapsed, count("Passed checks:") + count("Failed checks:"))
}

/// Best of `runs` wall times, and the summary of the last run.
fn time_check(bin: &str, file: &std::path::Path, runs: usize) -> (Duration, serde_json::Value) {
    let mut best = Duration::MAX;
    let mut summary = serde_json::Value::Null;
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(bin)
            .args(check_args(bin))
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

/// A file's size, or the total size of the files under a directory.
/// One run on `file`: its size, time and peak RSS (KiB, returned) against
/// the input, printed.
fn memory_run(bin: &str, what: &str, file: &std::path::Path) -> i64 {
    let bytes = size_of(file);
    let start = Instant::now();
    let rss = peak_rss_kib(bin, file);
    let ratio = (rss as f64 * 1024.0) / bytes as f64;
    println!(
        "   {what:<31} {:>7.1} MB  {:>7.1} s  peak RSS {:>7.1} MiB  ({ratio:.1}x the input)",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        rss as f64 / 1024.0,
    );
    rss
}

fn size_of(path: &std::path::Path) -> u64 {
    if path.is_file() {
        return std::fs::metadata(path).unwrap().len();
    }
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| size_of(&e.unwrap().path()))
        .sum()
}

fn walkdir_count(path: &std::path::Path) -> usize {
    if path.is_file() {
        return 1;
    }
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| walkdir_count(&e.unwrap().path()))
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--generate") {
        let n: usize = args[3].parse().expect("N");
        let text = match args[2].as_str() {
            "template" => template(n),
            "small" => small_template(n),
            "tf" => plain_tf(n),
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
    let tree = dir.join("terraform");
    terraform_tree(n, &tree);
    let tf_files = walkdir_count(&tree);
    let checkov = std::env::var("CHECKOV").ok().filter(|c| !c.is_empty());
    println!("== check on generated inputs, {n} resources each (best of 5 runs, release build)");
    let inputs = [
        ("CloudFormation template (YAML)", &t, "cloudformation", "-f"),
        ("Terraform plan (JSON)", &p, "terraform_plan", "-f"),
        ("Terraform source (.tf tree)", &tree, "terraform", "-d"),
    ];
    let mut times = Vec::new();
    for (what, file, _, _) in inputs {
        let bytes = size_of(file);
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
        times.push((best, s["stages"].clone()));
    }
    println!("   (the source tree: {tf_files} .tf files in 51 module directories)");
    match &checkov {
        Some(checkov) => {
            println!("== side by side: checkov --check CKV_AWS_73 on the same inputs (one run each; target: check at least 20x faster)");
            for ((what, file, framework, flag), (ours, stages)) in inputs.iter().zip(&times) {
                let (theirs, judged) = time_checkov(checkov, framework, flag, file);
                let ratio = theirs.as_secs_f64() / ours.as_secs_f64();
                println!(
                    "   {what:<31} checkov {:>7.2} s ({judged} judged)  apigw-tracing {:>7.1} ms ({stages} stages)  {ratio:>5.0}x faster  20x: {}",
                    theirs.as_secs_f64(),
                    ours.as_secs_f64() * 1000.0,
                    if ratio >= 20.0 { "met" } else { "MISSED" }
                );
            }
        }
        None => println!("== checkov comparison skipped: set CHECKOV to a checkov binary (make bench-check does)"),
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
        let rss = memory_run(&bin, what, file);
        println!(
            "      under 1 GiB: {}",
            if rss < 1024 * 1024 { "yes" } else { "NO" }
        );
    }
    // The two shapes hostile input used: the most stages per byte (memory
    // against size is then the report's), and one 5 MB .tf file.
    let small = dir.join("small.yaml");
    generate("small", large_mb * 1_000_000 / 64, &small);
    let tf_dir = dir.join("plain-tf");
    std::fs::create_dir_all(&tf_dir).unwrap();
    let tf = tf_dir.join("main.tf");
    generate("tf", 5_000_000 / 110, &tf);
    println!("== the shapes with the most stages per byte (one run each)");
    for (what, file) in [
        ("template of minimal stages", &small),
        ("one 5 MB .tf of plain stages", &tf_dir),
    ] {
        memory_run(&bin, what, file);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
