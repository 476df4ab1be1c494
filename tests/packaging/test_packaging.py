"""The gate as users install it: the wheel in a fresh virtualenv, the
pre-commit hook through pre-commit itself, and the release workflow that
would publish both. Run by `make packaging` (after `make wheel`)."""

import glob
import json
import os
import pathlib
import subprocess
import time
import venv

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MULTITOOL = ROOT / ".npm-tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
FAILING = "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties: {StageName: prod}\n"
PASSING = "Resources:\n  S:\n    Type: AWS::ApiGateway::Stage\n    Properties: {StageName: prod, TracingEnabled: true}\n"


def the_wheel():
    wheels = sorted(glob.glob(str(ROOT / "target/wheels/apigw_tracing_check-*.whl")))
    assert wheels, "no wheel: run make wheel"
    return wheels[-1]


def test_the_wheel_installs_into_a_fresh_virtualenv_and_gates(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run(
        [env_dir / "bin/pip", "install", "--quiet", "--no-index", the_wheel()], check=True
    )
    exe = env_dir / "bin/apigw-tracing-check"
    out = subprocess.run(
        [exe, "--format", "sarif", "tests/fixtures/check"], cwd=ROOT, capture_output=True
    )
    assert out.returncode == 3, out.stderr
    sarif = tmp_path / "fixtures.sarif"
    sarif.write_bytes(out.stdout)
    assert json.loads(out.stdout)["version"] == "2.1.0"
    report = tmp_path / "validation.sarif"
    subprocess.run([MULTITOOL, "validate", sarif, "-o", report], check=True, capture_output=True)
    results = json.loads(report.read_text())["runs"][0].get("results", [])
    errors = [r for r in results if r.get("level") == "error"]
    assert not errors, errors
    # A passing template exits 0; a path that is not there is a usage error.
    (tmp_path / "ok.yaml").write_text(PASSING)
    assert subprocess.run([exe, tmp_path / "ok.yaml"], capture_output=True).returncode == 0
    assert subprocess.run([exe, tmp_path / "missing"], capture_output=True).returncode == 2


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_pre_commit_try_repo_installs_the_gate_and_gates_commits(tmp_path):
    repo = tmp_path / "project"
    (repo / "infra").mkdir(parents=True)
    (repo / "infra/api.yaml").write_text(FAILING)
    (repo / "infra/ok.yaml").write_text(PASSING)
    (repo / "package.json").write_text('{"name": "web"}\n')
    git(repo, "init", "-q")
    git(repo, "add", ".")
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
        # The build pip runs reuses this checkout's compiled dependencies.
        CARGO_TARGET_DIR=str(ROOT / "target"),
    )

    def commit(*files):
        return subprocess.run(
            [ROOT / ".venv-packaging/bin/pre-commit", "try-repo", ROOT, "apigw-tracing-check",
             "--files", *files],
            cwd=repo, env=env, capture_output=True, text=True,
        )

    started = time.monotonic()
    failing = commit("infra/api.yaml")
    print(f"pre-commit first install and run: {time.monotonic() - started:.1f} s")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "Failed" in failing.stdout and "infra/api.yaml" in failing.stdout, failing.stdout
    # A passing template with a file that is none (each try-repo installs
    # afresh: two runs keep the test short).
    mixed = commit("package.json", "infra/ok.yaml")
    assert mixed.returncode == 0, mixed.stdout + mixed.stderr


def test_the_release_workflow_builds_every_target_on_a_tag():
    # actionlint cannot be installed here (its PyPI package downloads the
    # binary from GitHub at build time): the workflow's shape is checked.
    doc = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())
    on = doc.get("on", doc.get(True))
    assert on["push"]["tags"], on
    jobs = doc["jobs"]
    wheels = jobs["wheels"]["strategy"]["matrix"]["include"]
    targets = {(w["os"], w["target"]) for w in wheels}
    assert {("ubuntu-latest", "x86_64"), ("ubuntu-latest", "aarch64"),
            ("macos-latest", "x86_64"), ("macos-latest", "aarch64")} <= targets, targets
    for name, job in jobs.items():
        assert job["runs-on"], name
        for step in job["steps"]:
            uses = step.get("uses")
            assert uses is None or "@v" in uses, (name, uses)
            assert "run" in step or uses, (name, step)
    assert any("maturin" in (s.get("uses") or "") for s in jobs["wheels"]["steps"])
