//! `apigw-tracing-check` as CI runs it (the same code `apigw-tracing
//! check` runs): exit codes, each format, the directory walk, usage errors.

use serde_json::Value;

use crate::{run, Ran};

/// The gate's binary with ARGS, from the repository root (where the
/// fixtures' relative paths start, and what the outputs show).
fn check(args: &[&str]) -> Ran {
    run(args)
}

fn stderr(o: &Ran) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FIXTURES: &str = "tests/fixtures/check";

#[test]
fn a_mixed_folder_is_checked_as_a_whole_and_fails_with_3() {
    let out = check(&["--format", "json", FIXTURES]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(
        (
            &s["files"],
            &s["skipped"],
            &s["stages"],
            &s["failed"],
            &s["passed"],
            &s["exempt"],
            &s["unknown"]
        ),
        (
            &26.into(),
            &3.into(),
            &66.into(),
            &27.into(),
            &29.into(),
            &7.into(),
            &3.into()
        ),
        "{v:#}"
    );
    // The sampling fixtures: one blind stage per source, one partly seen,
    // one unknown per source; reported, not counted in the exit status.
    assert_eq!(
        (
            &s["sampling"],
            &s["sampling_failed"],
            &s["sampling_warning"],
            &s["sampling_unknown"]
        ),
        (&7.into(), &2.into(), &1.into(), &2.into()),
        "{v:#}"
    );
    let results = v["results"].as_array().unwrap();
    let find = |file: &str, resource: &str| {
        results
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(file) && r["resource"] == resource)
            .unwrap_or_else(|| panic!("{file} {resource}: {v:#}"))
    };
    let implicit = find("sam/template.yaml", "ServerlessRestApi");
    assert_eq!(
        (&implicit["status"], &implicit["stage"], &implicit["line"]),
        (&"FAILED".into(), &"Prod".into(), &9.into())
    );
    let module = find(
        "terraform/plan.json",
        "module.api[\"search\"].aws_api_gateway_stage.this",
    );
    assert_eq!(
        (&module["status"], &module["line"]),
        (&"FAILED".into(), &Value::Null)
    );
    // The same stage from Terraform source and from its plan.
    let from_source = find(
        "terraform/modules/api/main.tf",
        "module.api[\"search\"].aws_api_gateway_stage.this",
    );
    assert_eq!(
        (&from_source["status"], &from_source["line"]),
        (&"FAILED".into(), &26.into())
    );
    let sls = find("serverless/exempt/serverless.yml", "ApiGatewayRestApi");
    assert_eq!(
        (&sls["status"], &sls["stage"]),
        (&"EXEMPT".into(), &"dev".into())
    );
    let hidden = find("sam/template.yaml", "ServerlessRestApi");
    assert_eq!(hidden["status"], "FAILED");
    // Trace paths: reported beside the stages, not counted as stages.
    assert_eq!(
        (&s["paths"], &s["paths_failed"]),
        (&7.into(), &5.into()),
        "{v:#}"
    );
    let path = results
        .iter()
        .find(|r| r["rule"] == "trace-path" && r["resource"] == "PlainStage")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(path["status"], "FAILED");
    assert_eq!(path["functions"][0]["name"], "PlainFn");
    assert!(
        path["message"]
            .as_str()
            .unwrap()
            .contains("PlainFn (PassThrough, not set)"),
        "{path}"
    );
    let param = find("cloudformation/stack.yaml", "ParamStage");
    assert!(
        param["message"]
            .as_str()
            .unwrap()
            .contains("judged by the default of parameter EnableTracing"),
        "{param}"
    );
    assert_eq!(
        find(
            "cdk.out/OrdersStack.template.json",
            "OrdersApiDeploymentStageprod5E6F7A8B"
        )["status"],
        "PASSED"
    );
    assert!(!results
        .iter()
        .any(|r| r["file"].as_str().unwrap().contains("node_modules")));
    for r in results {
        for field in [
            "file", "resource", "type", "stage", "status", "line", "message",
        ] {
            assert!(r.get(field).is_some(), "{field} missing: {r}");
        }
    }
}

#[test]
fn no_failing_stage_exits_0_and_the_table_names_the_fix() {
    let ok = check(&["tests/fixtures/check/passing"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let out = check(&["tests/fixtures/check/cloudformation/stack.yaml"]);
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("FAILED   tests/fixtures/check/cloudformation/stack.yaml:26  DevStage  stage dev  -> set TracingEnabled: true"),
        "{table}"
    );
    assert!(
        table.contains("5 stage(s) in 1 file(s): 2 failed, 1 passed, 1 exempt, 1 unknown"),
        "{table}"
    );
}

#[test]
fn a_named_file_that_is_no_plan_or_template_is_a_usage_error() {
    for (path, want) in [
        (
            "tests/fixtures/check/unrelated/deployment.yaml",
            "unrelated/deployment.yaml: is neither a Terraform plan",
        ),
        (
            "tests/fixtures/check/unrelated/package.json",
            "unrelated/package.json: is neither",
        ),
        (
            "tests/fixtures/check/unrelated/broken.yaml",
            "unrelated/broken.yaml:4: does not parse",
        ),
        (
            "tests/fixtures/check/missing.yaml",
            "missing.yaml: no such file or directory",
        ),
    ] {
        let out = check(&[path]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{path}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{path}");
    }
    let no_path = check(&[]);
    assert_eq!(no_path.status.code(), Some(2));
}

#[test]
fn sarif_has_one_rule_locations_suppressions_and_stable_fingerprints() {
    let run = || {
        let out = check(&["--format", "sarif", FIXTURES]);
        assert_eq!(out.status.code(), Some(3));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let sarif = run();
    assert_eq!(sarif["version"], "2.1.0");
    let r = &sarif["runs"][0];
    let rules = r["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3, "the stage, trace-path and sampling rules");
    assert_eq!(rules[2]["id"], "APIGW-TRACING-003");
    let help = rules[0]["help"]["text"].as_str().unwrap();
    for fix in [
        "xray_tracing_enabled = true",
        "TracingEnabled: true",
        "Globals.Api.TracingEnabled: true",
    ] {
        assert!(help.contains(fix), "{fix}");
    }
    assert!(rules[0]["helpUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let results = r["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        47,
        "27 failed + 7 exempt + 3 unknown stages, 5 failed trace paths, 2 blind + 1 partly seen + 2 unknown sampling verdicts; no passed"
    );
    let levels = |lvl: &str| results.iter().filter(|x| x["level"] == lvl).count();
    assert_eq!(
        (levels("error"), levels("note"), levels("warning")),
        (36, 5, 6)
    );
    assert_eq!(
        results
            .iter()
            .filter(|x| x["ruleId"] == "APIGW-TRACING-003")
            .count(),
        5
    );
    assert_eq!(
        results
            .iter()
            .filter(|x| x["ruleId"] == "APIGW-TRACING-002")
            .count(),
        5
    );
    let suppressed: Vec<_> = results
        .iter()
        .filter(|x| x.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 7);
    assert!(suppressed
        .iter()
        .any(|x| x["suppressions"][0]["justification"] == "vendor proxy, no X-Ray support"));
    let dev = results
        .iter()
        .find(|x| x["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "DevStage")
        .unwrap();
    let loc = &dev["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "tests/fixtures/check/cloudformation/stack.yaml"
    );
    assert_eq!(loc["region"]["startLine"], 26);
    let prints = |s: &Value| -> Vec<Value> {
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(
        prints(&sarif),
        prints(&run()),
        "fingerprints are stable across runs"
    );
    let mut distinct: Vec<String> = prints(&sarif).iter().map(Value::to_string).collect();
    distinct.sort();
    distinct.dedup();
    // terraform/: its 4 stages that do not pass, from source and from
    // plan, are one alert each; a stage's sampling alert is its own.
    assert_eq!(distinct.len(), 43);
}

/// A scratch directory under the target dir, new for each call.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const FAILING_STAGE: &str = "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties:\n      StageName: prod\n      RestApiId: x\n";

/// Hostile files never abort `check`: too deep, too large, not regular
/// files, states instead of plans. Named directly: exit 2 naming the file;
/// in a walk: skipped, counted and named, the rest still judged.
#[test]
fn hostile_files_are_refused_by_name_or_skipped_in_a_walk() {
    let dir = scratch("hostile");
    std::fs::write(dir.join("good.yaml"), FAILING_STAGE).unwrap();
    let deep = format!("{}x\n", "- ".repeat(100_000));
    std::fs::write(dir.join("deep.yaml"), &deep).unwrap();
    std::fs::write(
        dir.join("big.yaml"),
        format!("{FAILING_STAGE}# {}\n", "x".repeat(4096)),
    )
    .unwrap();
    let state = r#"{"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "l", "resources": []}"#;
    std::fs::write(dir.join("terraform.tfstate.json"), state).unwrap();
    let fifo = dir.join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let path = |name: &str| dir.join(name).display().to_string();

    for (name, want) in [
        ("deep.yaml", "nested deeper than 256 levels"),
        (
            "terraform.tfstate.json",
            "is a Terraform state file, not a plan",
        ),
        ("pipe.yaml", "is not a regular file"),
    ] {
        let out = check(&[&path(name)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(name) && stderr(&out).contains(want),
            "{name}: {}",
            stderr(&out)
        );
    }
    let big = check(&["--max-file-size", "1K", &path("big.yaml")]);
    assert_eq!(big.status.code(), Some(2));
    assert!(
        stderr(&big).contains("over the limit of 1024 (--max-file-size)"),
        "{}",
        stderr(&big)
    );
    let zero = check(&["/dev/zero"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(
        stderr(&zero).contains("/dev/zero: is not a regular file"),
        "{}",
        stderr(&zero)
    );

    // The walk: the good file is judged (exit 3), each other one named.
    let out = check(&[
        "--format",
        "json",
        "--max-file-size",
        "1K",
        &dir.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["failed"], 1, "{v:#}");
    assert_eq!(v["summary"]["skipped"], 4, "{v:#}");
    let reasons: Vec<String> = v["summary"]["skipped_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["path"].as_str().unwrap(),
                p["reason"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "big.yaml is ",
        "deep.yaml",
        "pipe.yaml not a regular file",
        "terraform.tfstate.json is a Terraform state",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "{want}: {reasons:#?}"
        );
    }
}

/// The pre-commit hook as pre-commit runs it: its own `entry`, `args`,
/// `files` and `exclude` from `.pre-commit-hooks.yaml`, on commits that mix
/// templates with package.json, CI workflows and docs. A failing template
/// fails the commit (3); a commit with none passes (0).
#[test]
fn the_pre_commit_hook_passes_ordinary_commits_and_stops_failing_templates() {
    let text = std::fs::read_to_string(crate::root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = apigw_tracing_check::check::yaml::parse(&text).unwrap();
    let hook = &hooks.items()[0];
    let field = |k: &str| hook.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let entry: Vec<String> = field("entry")
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let args: Vec<String> = hook
        .get("args")
        .map(|a| {
            a.items()
                .iter()
                .filter_map(|x| x.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let files = regex::Regex::new(&field("files").unwrap()).unwrap();
    let exclude = regex::Regex::new(&field("exclude").unwrap_or_else(|| "^$".into())).unwrap();
    assert_eq!(entry[0], "apigw-tracing-check", "the hook runs the gate");

    let repo = scratch("hook");
    let write = |rel: &str, text: &str| {
        let path = repo.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("package.json", r#"{"name": "web", "dependencies": {}}"#);
    write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: []\n",
    );
    write("docs/README.md", "# docs\n");
    write("node_modules/x/template.yaml", FAILING_STAGE);
    write("infra/api.yaml", FAILING_STAGE);
    let commit = |staged: &[&str]| {
        // What pre-commit hands the hook: the staged files its patterns select.
        let selected: Vec<&str> = staged
            .iter()
            .copied()
            .filter(|f| files.is_match(f) && !exclude.is_match(f))
            .collect();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_apigw-tracing-check"))
            .args(&entry[1..])
            .args(&args)
            .args(&selected)
            .current_dir(&repo)
            .output()
            .unwrap();
        (
            out.status.code(),
            selected.len(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let ordinary = [
        "package.json",
        ".github/workflows/ci.yml",
        "docs/README.md",
        "node_modules/x/template.yaml",
    ];
    let (code, selected, out) = commit(&ordinary);
    assert_eq!(selected, 2, "package.json and the workflow reach the hook");
    assert_eq!(code, Some(0), "an ordinary commit passes: {out}");
    let (code, _, out) = commit(&["package.json", ".github/workflows/ci.yml", "infra/api.yaml"]);
    assert_eq!(code, Some(3), "a failing template fails the commit: {out}");
    assert!(out.contains("infra/api.yaml"), "{out}");
    // Terraform source: a staged .tf checks its module; a staged tfvars
    // re-checks the module it configures.
    write(
        "tf/main.tf",
        "variable \"on\" {\n  default = true\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name           = \"prod\"\n  xray_tracing_enabled = var.on\n}\n",
    );
    let (code, _, out) = commit(&["tf/main.tf"]);
    assert_eq!(code, Some(0), "{out}");
    write("tf/terraform.tfvars", "on = false\n");
    let (code, selected, out) = commit(&["tf/terraform.tfvars"]);
    assert_eq!((code, selected), (Some(3), 1), "{out}");
    assert!(out.contains("aws_api_gateway_stage.s"), "{out}");
    // OpenTofu: a staged .tofu reaches the hook and checks its module.
    write(
        "tofu/main.tofu",
        "resource \"aws_api_gateway_stage\" \"t\" {\n  stage_name = \"prod\"\n}\n",
    );
    let (code, selected, out) = commit(&["tofu/main.tofu"]);
    assert_eq!((code, selected), (Some(3), 1), "{out}");
    assert!(out.contains("tofu/main.tofu"), "{out}");
}

/// OpenTofu's precedence from the command line: a directory holding a
/// passing `main.tf` and a failing `main.tofu` fails, naming the `.tofu`
/// file (OpenTofu never loads the `.tf` twin).
#[test]
fn a_failing_tofu_twin_fails_the_check_and_is_named() {
    let repo = scratch("tofu-twins");
    let stage = |traced: bool| {
        format!("resource \"aws_api_gateway_stage\" \"s\" {{\n  stage_name = \"prod\"\n  xray_tracing_enabled = {traced}\n}}\n")
    };
    std::fs::write(repo.join("main.tf"), stage(true)).unwrap();
    std::fs::write(repo.join("main.tofu"), stage(false)).unwrap();
    let out = check(&["--format", "json", repo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v:#}");
    assert!(
        results[0]["file"].as_str().unwrap().ends_with("main.tofu"),
        "{v:#}"
    );
    assert!(v["summary"]["skipped_paths"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("main.tofu in its place"));
    // The fingerprint is the address's, as a plan's and the .tf source's.
    let sarif = check(&["--format", "sarif", repo.to_str().unwrap()]);
    let s: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let fp = &s["runs"][0]["results"][0]["partialFingerprints"]["apigwTracingStage/v1"];
    std::fs::remove_file(repo.join("main.tofu")).unwrap();
    std::fs::write(repo.join("main.tf"), stage(false)).unwrap();
    let from_tf = check(&["--format", "sarif", repo.to_str().unwrap()]);
    let t: Value = serde_json::from_slice(&from_tf.stdout).unwrap();
    assert_eq!(
        fp,
        &t["runs"][0]["results"][0]["partialFingerprints"]["apigwTracingStage/v1"]
    );
}

#[test]
fn a_repository_of_terraform_source_is_checked_and_nothing_to_check_is_refused() {
    let repo = scratch("tf-repo");
    std::fs::create_dir_all(repo.join("envs/prod")).unwrap();
    std::fs::write(
        repo.join("envs/prod/main.tf"),
        "resource \"aws_api_gateway_stage\" \"main\" {\n  stage_name = \"prod\"\n}\n",
    )
    .unwrap();
    let out = check(&[repo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("envs/prod/main.tf:1  aws_api_gateway_stage.main"),
        "{table}"
    );
    // Named, the file is read as Terraform (never as YAML).
    let named = repo.join("envs/prod/main.tf");
    assert_eq!(check(&[named.to_str().unwrap()]).status.code(), Some(3));

    // A CI step pointed at a folder with nothing to check must not pass.
    let empty = scratch("nothing");
    std::fs::write(empty.join("notes.json"), "{\"a\": 1}").unwrap();
    std::fs::write(empty.join("README.md"), "# x\n").unwrap();
    let out = check(&[empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("nothing to check under"), "{err}");
    assert!(err.contains("(1 file(s) skipped)"), "{err}");
    assert!(out.stdout.is_empty());
    // The pre-commit hook is the exception: a commit without any template.
    let out = check(&["--hook", empty.join("notes.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A template with no stage is something checked: exit 0.
    std::fs::write(
        empty.join("t.yaml"),
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    assert_eq!(check(&[empty.to_str().unwrap()]).status.code(), Some(0));
}

/// An unreadable directory in a walk is named under `skipped_paths`, not
/// dropped. Root can read a `chmod 000` directory, so this uses one the
/// kernel refuses even to root in a container: `/proc/1/map_files`.
#[test]
fn an_unreadable_directory_is_named_not_dropped() {
    let dir = "/proc/1/map_files";
    // Opening it works; reading its entries is what the kernel refuses.
    let readable = std::fs::read_dir(dir).and_then(|mut d| d.next().transpose());
    if readable.is_ok() {
        eprintln!("SKIPPED: {dir} is readable here (a privileged process); nothing to refuse");
        return;
    }
    // With nothing else to check, the run is refused (exit 2, below); next
    // to a template, the unreadable directory is named.
    let out = check(&["--format", "json", dir, "tests/fixtures/check/passing"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = v["summary"]["skipped_paths"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|p| p["path"].as_str().unwrap().contains("map_files")
                && p["reason"].as_str().unwrap().contains("cannot be read")),
        "{v:#}"
    );
    assert_eq!(v["summary"]["skipped"], skipped.len());
}

/// One exit-status policy for the three rules: `--fail-on` names the rules
/// whose FAILED results exit 3 (default: the stage rule, as before).
#[test]
fn fail_on_names_the_rules_that_fail_the_check() {
    let template = "tests/fixtures/check/sampling/cloudformation/template.yaml";
    for (fail_on, code) in [
        (None, 0),
        (Some("stage"), 0),
        (Some("trace-path"), 0),
        (Some("sampling"), 3),
        (Some("stage,sampling"), 3),
        (Some("all"), 3),
    ] {
        let mut args = vec!["--format", "json"];
        if let Some(f) = fail_on {
            args.extend(["--fail-on", f]);
        }
        args.push(template);
        let out = check(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "--fail-on {fail_on:?}: {}",
            stderr(&out)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let blind: Vec<&Value> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["rule"] == "sampling" && r["status"] == "FAILED")
            .collect();
        assert_eq!(blind.len(), 1);
        assert_eq!(blind[0]["resource"], "OrdersProd");
        assert!(blind[0]["fix"].as_str().unwrap().contains("'save-cost'"));
    }
    let bad = check(&["--fail-on", "stage,everything", template]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("trace-path"), "{}", stderr(&bad));
}

/// Serverless Framework services by content: any file name with a
/// top-level `service` and `provider.name: aws`; services written as code
/// are named as not read (exit 2 named, skipped and named in a walk).
#[test]
fn serverless_services_are_read_by_content_and_code_is_named_not_read() {
    let api = "tests/fixtures/check/serverless/by-content/api.yml";
    let out = check(&["--format", "json", api]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "FAILED", "{v:#}");
    assert!(v["results"][0]["fix"]
        .as_str()
        .unwrap()
        .contains("provider.tracing.apiGateway"));
    let repo = scratch("sls-code");
    std::fs::write(
        repo.join("serverless.ts"),
        "export default {service: 'x'};\n",
    )
    .unwrap();
    std::fs::copy(crate::root().join(api), repo.join("billing.yml")).unwrap();
    let named = check(&[repo.join("serverless.ts").to_str().unwrap()]);
    assert_eq!(named.status.code(), Some(2));
    assert!(
        stderr(&named).contains("written as code is not read"),
        "{}",
        stderr(&named)
    );
    let walked = check(&["--format", "json", repo.to_str().unwrap()]);
    assert_eq!(walked.status.code(), Some(3), "{}", stderr(&walked));
    let v: Value = serde_json::from_slice(&walked.stdout).unwrap();
    let skipped = &v["summary"]["skipped_paths"];
    assert!(
        skipped[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("serverless.ts"),
        "{v:#}"
    );
    assert!(v["results"][0]["file"]
        .as_str()
        .unwrap()
        .ends_with("billing.yml"));
}
