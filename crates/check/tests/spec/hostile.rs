//! Issue 24's "done when", with the real binary: each hostile input, beside
//! a plain failing template in the same walk, finishes within seconds under
//! a 4 GiB address-space cap, exits 0, 2 or 3 (here 3: the plain template
//! fails), and the plain template is still judged.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn nested_for(depth: usize) -> String {
    let ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
    let mut e = "1".to_string();
    for i in 0..depth {
        e = format!("[for v{i} in {ten} : {e}]");
    }
    e
}

/// Writes one hostile input into a fresh directory.
type Make = Box<dyn Fn(&Path)>;

/// Each hostile input: its name and what writes it.
fn inputs() -> Vec<(&'static str, Make)> {
    vec![
        (
            "string doubling in locals",
            Box::new(|d: &Path| {
                let mut t = String::from("locals {\n  s0 = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n");
                for i in 1..64 {
                    t += &format!("  s{i} = \"${{local.s{0}}}${{local.s{0}}}\"\n", i - 1);
                }
                t += "}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = local.s63\n}\n";
                write(d, "main.tf", &t);
            }),
        ),
        (
            "concat doubling in locals",
            Box::new(|d: &Path| {
                let mut t = String::from("locals {\n  l0 = [1, 2]\n");
                for i in 1..64 {
                    t += &format!("  l{i} = concat(local.l{0}, local.l{0})\n", i - 1);
                }
                t += "}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = length(local.l63)\n}\n";
                write(d, "main.tf", &t);
            }),
        ),
        (
            "7 nested for in an unused local",
            Box::new(|d: &Path| {
                write(d, "main.tf", &format!("locals {{\n  unused = {}\n}}\nresource \"aws_api_gateway_stage\" \"s\" {{\n  stage_name = \"s\"\n}}\n", nested_for(7)));
            }),
        ),
        (
            "for_each over 10^5 generated keys",
            Box::new(|d: &Path| {
                write(d, "main.tf", &format!("resource \"aws_api_gateway_stage\" \"s\" {{\n  for_each   = {{ for k in flatten({}) : \"k${{k}}\" => k }}\n  stage_name = each.key\n}}\n", nested_for(5).replace(": 1]", ": \"${v0}${v1}${v2}${v3}${v4}\"]")));
            }),
        ),
        (
            "module count 10000 x resource count 10000",
            Box::new(|d: &Path| {
                write(
                    d,
                    "main.tf",
                    "module \"m\" {\n  source = \"./m\"\n  count  = 10000\n}\n",
                );
                write(d, "m/main.tf", "resource \"aws_api_gateway_stage\" \"s\" {\n  count      = 10000\n  stage_name = \"s\"\n}\n");
            }),
        ),
        (
            "for_each over a 10,000-entry literal map",
            Box::new(|d: &Path| {
                let mut t = String::from("locals {\n  m = {\n");
                for i in 0..10_000 {
                    t += &format!("    k{i} = {{ on = true, name = \"stage-{i}\" }}\n");
                }
                t += "  }\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  for_each             = local.m\n  stage_name           = each.value.name\n  xray_tracing_enabled = each.value.on\n}\n";
                write(d, "main.tf", &t);
            }),
        ),
        (
            "Fn::ForEach, four loops of 100",
            Box::new(|d: &Path| {
                let list: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
                let list = format!("[{}]", list.join(", "));
                let mut body = "'S${A}${B}${C}${D}':\n  Type: AWS::ApiGateway::Stage\n  Properties: {StageName: s}\n".to_string();
                for v in ["D", "C", "B", "A"] {
                    let inner: String = body.lines().map(|l| format!("      {l}\n")).collect();
                    body = format!("'Fn::ForEach::{v}':\n  - {v}\n  - {list}\n  -\n{inner}");
                }
                let resources: String = body.lines().map(|l| format!("  {l}\n")).collect();
                write(
                    d,
                    "loops.yaml",
                    &format!("Transform: AWS::LanguageExtensions\nResources:\n{resources}"),
                );
            }),
        ),
        (
            "Serverless fallback chain of 200,000",
            Box::new(|d: &Path| {
                let mut chain = String::from("${self:a0");
                for i in 1..200_000 {
                    chain += &format!(", self:a{i}");
                }
                write(d, "serverless.yml", &format!("service: s\nprovider:\n  name: aws\n  tracing:\n    apiGateway: \"{chain}, 'true'}}\"\nfunctions:\n  f:\n    events:\n      - http: GET /\n"));
            }),
        ),
        (
            "a .tf nested 64 levels",
            Box::new(|d: &Path| {
                write(
                    d,
                    "deep.tf",
                    &format!(
                        "locals {{\n  x = {}1{}\n}}\n",
                        "[".repeat(64),
                        "]".repeat(64)
                    ),
                );
                write(
                    d,
                    "main.tf",
                    "resource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = \"s\"\n}\n",
                );
            }),
        ),
        (
            "modules.json linked to /dev/zero",
            Box::new(|d: &Path| {
                write(d, "main.tf", "module \"r\" {\n  source = \"x/y/aws\"\n}\n");
                std::fs::create_dir_all(d.join(".terraform/modules")).unwrap();
                std::os::unix::fs::symlink("/dev/zero", d.join(".terraform/modules/modules.json"))
                    .unwrap();
            }),
        ),
        (
            "modules.json a FIFO",
            Box::new(|d: &Path| {
                write(d, "main.tf", "module \"r\" {\n  source = \"x/y/aws\"\n}\n");
                std::fs::create_dir_all(d.join(".terraform/modules")).unwrap();
                assert!(Command::new("mkfifo")
                    .arg(d.join(".terraform/modules/modules.json"))
                    .status()
                    .unwrap()
                    .success());
            }),
        ),
        (
            "modules.json of 600 MB (sparse)",
            Box::new(|d: &Path| {
                write(d, "main.tf", "module \"r\" {\n  source = \"x/y/aws\"\n}\n");
                std::fs::create_dir_all(d.join(".terraform/modules")).unwrap();
                let f = std::fs::File::create(d.join(".terraform/modules/modules.json")).unwrap();
                f.set_len(600 << 20).unwrap();
            }),
        ),
        (
            "2,000 locals in reverse order",
            Box::new(|d: &Path| {
                let mut t = String::from("locals {\n");
                for i in (1..2000).rev() {
                    t += &format!("  l{i} = local.l{}\n", i - 1);
                }
                t += "  l0 = \"x\"\n}\nresource \"aws_api_gateway_stage\" \"s\" {\n  stage_name = local.l1999\n}\n";
                write(d, "main.tf", &t);
            }),
        ),
        (
            "a 5 MB .tf of plain stages",
            Box::new(|d: &Path| {
                let mut t = String::new();
                for i in 0..45_000 {
                    t += &format!("resource \"aws_api_gateway_stage\" \"s{i}\" {{\n  rest_api_id = \"a\"\n  stage_name  = \"s{i}\"\n}}\n");
                }
                write(d, "main.tf", &t);
            }),
        ),
    ]
}

#[test]
fn every_hostile_input_ends_in_seconds_under_4_gib_and_the_walk_goes_on() {
    let bin = env!("CARGO_BIN_EXE_apigw-tracing-check");
    let root = std::env::temp_dir().join(format!("apigw-it-hostile-{}", std::process::id()));
    let mut report = Vec::new();
    for (name, make) in inputs() {
        let dir: PathBuf = root.join(name.replace([' ', ',', ':', '^', '/'], "_"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        make(&dir.join("hostile"));
        write(&dir, "plain/template.yaml", "Resources:\n  Plain:\n    Type: AWS::ApiGateway::Stage\n    Properties: {StageName: plain}\n");
        let started = Instant::now();
        let out = Command::new("bash")
            .arg("-c")
            .arg("ulimit -v 4194304; exec timeout 120 \"$0\" --format json \"$1\"")
            .arg(bin)
            .arg(&dir)
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {stderr}"));
        let plain = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "Plain")
            .unwrap_or_else(|| panic!("{name}: the plain template was not judged"));
        assert_eq!(plain["status"], "FAILED", "{name}");
        // Debug build, shared cores: a release build is several times faster.
        assert!(took < Duration::from_secs(60), "{name}: {took:?}");
        report.push(format!(
            "{name}: {:.2} s, {} stage(s)",
            took.as_secs_f64(),
            v["summary"]["stages"]
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{}", report.join("\n"));
}
