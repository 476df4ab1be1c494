"""Checks of the infrastructure code: least privilege (no wildcard action,
member role limited to what the scanner calls), and the Terraform module held
consistent with the SAM template. Run by `make lint` (pytest)."""

import pathlib
import re

import hcl2
import pytest
from cfnlint.decode import cfn_yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TF = INFRA / "terraform"

# What the scanner calls in a member account, and nothing more.
MEMBER_ACTIONS = {
    "apigateway:GET",
    "securityhub:BatchImportFindings",
    "securityhub:GetFindings",
    # The trace path: each function's TracingConfig, read-only.
    "lambda:GetFunctionConfiguration",
    # Sampling verdicts: the rules and their statistics, read-only.
    "xray:GetSamplingRules",
    "xray:GetSamplingStatisticSummaries",
}
# Cost estimates, only under the Cost switch (read-only).
COST_ACTIONS = {"cloudwatch:GetMetricData", "xray:GetTraceSegmentDestination"}
# Actions IAM defines no resource type for: "*" is the only valid Resource.
NO_RESOURCE_TYPES = {"xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries"} | COST_ACTIONS


def one(v):
    """python-hcl2 wraps every attribute value in a one-element list."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def as_list(v):
    return v if isinstance(v, list) else [v]


def cfn(name):
    return cfn_yaml.load(str(INFRA / name))


def hcl(path):
    with open(path) as f:
        return hcl2.load(f)


def blocks(doc, kind, type_):
    """{name: body} of every `kind "type_" "name"` block."""
    out = {}
    for entry in doc.get(kind, []):
        for t, named in entry.items():
            if t == type_:
                out.update({n: b for n, b in named.items()})
    return out


def cfn_statements(template):
    """Every IAM statement in a template: (resource, statement)."""
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        docs = [props.get("AssumeRolePolicyDocument"), props.get("PolicyDocument")]
        docs += [p.get("PolicyDocument") for p in props.get("Policies", [])]
        for doc in filter(None, docs):
            for st in as_list(doc["Statement"]):
                yield name, st


def tf_statements(doc):
    for name, body in blocks(doc, "data", "aws_iam_policy_document").items():
        for st in body.get("statement", []):
            yield name, st


def cfn_actions(st):
    return set(as_list(st.get("Action", [])))


def tf_actions(st):
    return set(as_list(one(st.get("actions", [[]]))))


ALL_CFN = ["template.yaml", "member-role.yaml", "member-hook.yaml"]
ALL_TF = [TF / "main.tf", TF / "member-role" / "main.tf", TF / "member-hook" / "main.tf"]


@pytest.mark.parametrize("name", ALL_CFN)
def test_cloudformation_has_no_wildcard_action(name):
    seen = 0
    for res, st in cfn_statements(cfn(name)):
        assert "NotAction" not in st, f"{name} {res}: NotAction grants everything else"
        for action in cfn_actions(st):
            seen += 1
            assert "*" not in action, f"{name} {res}: wildcard action {action!r}"
    assert seen > 0, f"no IAM statement found in {name}: the test would prove nothing"


@pytest.mark.parametrize("path", ALL_TF, ids=lambda p: str(p.relative_to(TF)))
def test_terraform_has_no_wildcard_action(path):
    seen = 0
    for doc, st in tf_statements(hcl(path)):
        assert "not_actions" not in st, f"{path.name} {doc}: not_actions grants everything else"
        for action in tf_actions(st):
            seen += 1
            assert "*" not in action, f"{path.name} {doc}: wildcard action {action!r}"
    assert seen > 0


def test_member_role_allows_only_what_the_scanner_calls():
    role = cfn("member-role.yaml")["Resources"]["ScanRole"]["Properties"]
    allowed = set()
    for policy in role["Policies"]:
        statements = as_list(policy["PolicyDocument"]["Statement"])
        # The cost reads only under their own switch.
        conditional = [st["Fn::If"] for st in statements if "Fn::If" in st]
        assert [c[0] for c in conditional] == ["WantsCost"]
        assert conditional[0][2] == {"Ref": "AWS::NoValue"}
        assert cfn_actions(conditional[0][1]) == COST_ACTIONS
        for st in statements:
            if "Fn::If" in st:
                continue
            assert st["Effect"] == "Allow"
            allowed |= cfn_actions(st)
            for r in as_list(st["Resource"]):
                assert r != "*" or cfn_actions(st) <= NO_RESOURCE_TYPES, f"member role: resource '*' for {st['Sid']}"
    assert allowed == MEMBER_ACTIONS
    trust = as_list(role["AssumeRolePolicyDocument"]["Statement"])
    assert len(trust) == 1 and cfn_actions(trust[0]) == {"sts:AssumeRole"}
    assert "aws:PrincipalOrgID" in str(trust[0]["Condition"]), "trust must be limited to the organization"
    assert "sts:ExternalId" in str(trust[0]["Condition"]), "the ExternalId condition must be there when set"

    tf = hcl(TF / "member-role" / "main.tf")
    docs = blocks(tf, "data", "aws_iam_policy_document")
    tf_allowed = set().union(*(tf_actions(st) for st in docs["scan"]["statement"]))
    assert tf_allowed == MEMBER_ACTIONS
    dynamic = one(docs["scan"]["dynamic"])["statement"]
    assert one(dynamic["for_each"]) == '${var.cost == "on" ? [1] : []}'
    assert tf_actions(one(dynamic["content"])) == COST_ACTIONS
    for st in docs["scan"]["statement"]:
        assert "*" not in as_list(one(st["resources"])) or tf_actions(st) <= NO_RESOURCE_TYPES


def test_terraform_matches_the_sam_template():
    sam = cfn("template.yaml")
    fn = sam["Resources"]["ScannerFunction"]["Properties"]
    tf = hcl(TF / "main.tf")
    lam = blocks(tf, "resource", "aws_lambda_function")["scanner"]

    assert one(lam["runtime"]) == fn["Runtime"] == "provided.al2023"
    assert one(lam["architectures"]) == fn["Architectures"] == ["arm64"]
    assert one(lam["handler"]) == fn["Handler"] == "bootstrap"
    assert one(lam["timeout"]) == fn["Timeout"]
    assert one(lam["memory_size"]) == fn["MemorySize"]
    assert fn["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert one(lam["reserved_concurrent_executions"]) == "${var.reserved_concurrency}"
    assert one(one(lam["tracing_config"])["mode"]) == fn["Tracing"] == "Active"
    assert one(one(lam["logging_config"])["log_format"]) == fn["LoggingConfig"]["LogFormat"] == "JSON"
    tf_env = one(one(lam["environment"])["variables"])
    if isinstance(tf_env, str):
        # merge({...}, <external id only when set>): the names it can hold.
        tf_env = set(re.findall(r"\b(APIGW_TRACING_[A-Z_]+|RUST_LOG)\b", tf_env))
    assert set(tf_env) == set(fn["Environment"]["Variables"])

    # Parameter defaults = variable defaults.
    params = sam["Parameters"]
    variables = {}
    for v in hcl(TF / "variables.tf")["variable"]:
        variables.update(v)
    pairs = {
        "ScheduleExpression": "schedule_expression",
        "ApigwRps": "apigw_rps",
        "SecurityHubRps": "securityhub_rps",
        "Concurrency": "concurrency",
        "LogRetentionDays": "log_retention_days",
        "MemberRoleName": "member_role_name",
        "Exemptions": "exemptions",
        "ExternalId": "external_id",
        "MaxAttempts": "max_attempts",
        "DeadlineMarginSecs": "deadline_margin_secs",
        "DryRun": "dry_run",
        "FanOutAbove": "fan_out_above",
        "QueueBatchSize": "queue_batch_size",
        "QueueMaxConcurrency": "queue_max_concurrency",
        "ReservedConcurrency": "reserved_concurrency",
        "CreateInsight": "create_insight",
        "EnableRemediation": "enable_remediation",
        "RemediationMode": "remediation_mode",
        "RemediationRoleName": "remediation_role_name",
        "TracePath": "trace_path",
        "EnableDeployHook": "enable_deploy_hook",
        "DeployHookFailureMode": "deploy_hook_failure_mode",
        "DeployHookCallAs": "deploy_hook_call_as",
    }
    for p, v in pairs.items():
        assert str(params[p]["Default"]).lower() == str(one(variables[v]["default"])).lower(), f"{p} != {v}"
    for required in ["Regions", "OrganizationId"]:
        assert "Default" not in params[required]
    assert "default" not in variables["regions"] and "default" not in variables["organization_id"]

    # Same permissions for the scanner.
    sam_actions = set()
    for policy in sam["Resources"]["ScannerRole"]["Properties"]["Policies"]:
        for st in as_list(policy["PolicyDocument"]["Statement"]):
            sam_actions |= cfn_actions(st)
    docs = blocks(tf, "data", "aws_iam_policy_document")
    tf_scan = set().union(*(tf_actions(st) for st in docs["scan"]["statement"]))
    assert tf_scan == sam_actions

    # Same schedule retry policy and failure handling.
    sched = sam["Resources"]["ScanSchedule"]["Properties"]["Target"]["RetryPolicy"]
    tf_sched = one(one(blocks(tf, "resource", "aws_scheduler_schedule")["scan"]["target"])["retry_policy"])
    assert one(tf_sched["maximum_retry_attempts"]) == sched["MaximumRetryAttempts"]
    assert one(tf_sched["maximum_event_age_in_seconds"]) == sched["MaximumEventAgeInSeconds"]
    invoke = blocks(tf, "resource", "aws_lambda_function_event_invoke_config")["scanner"]
    assert one(invoke["maximum_retry_attempts"]) == fn["EventInvokeConfig"]["MaximumRetryAttempts"]
    alarms = set(blocks(tf, "resource", "aws_cloudwatch_metric_alarm"))
    sam_alarms = [n for n, r in sam["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == len(sam_alarms) == 4

    # The fan-out queue: same redrive, visibility and batch behaviour.
    sam_q = sam["Resources"]["ScanQueue"]["Properties"]
    tf_q = blocks(tf, "resource", "aws_sqs_queue")["scan"]
    assert one(tf_q["visibility_timeout_seconds"]) == sam_q["VisibilityTimeout"] >= 6 * fn["Timeout"]
    assert sam_q["RedrivePolicy"]["maxReceiveCount"] == 3 and "maxReceiveCount     = 3" in (TF / "main.tf").read_text()
    esm = blocks(tf, "resource", "aws_lambda_event_source_mapping")["scan_queue"]
    sam_esm = fn["Events"]["ScanQueueBatches"]["Properties"]
    assert one(esm["function_response_types"]) == sam_esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_configured_variable_is_one_the_binary_reads():
    source = "".join(p.read_text() for p in sorted((ROOT / "src").rglob("*.rs")) if "config" in p.parts or "cli" in p.parts)
    known = set(re.findall(r'env = "(APIGW_TRACING_[A-Z_]+)"', source))
    assert len(known) >= 10, known
    fn = cfn("template.yaml")["Resources"]["ScannerFunction"]["Properties"]
    for key in fn["Environment"]["Variables"]:
        assert key in known or key == "RUST_LOG", f"{key} is set in the template but the binary does not read it"


def test_the_code_uri_is_what_make_package_builds():
    fn = cfn("template.yaml")["Resources"]["ScannerFunction"]["Properties"]
    assert fn["CodeUri"] == "../target/lambda/apigw-tracing-lambda/bootstrap.zip"
    makefile = (ROOT / "Makefile").read_text()
    assert "target/lambda/apigw-tracing-lambda/bootstrap.zip" in makefile


def test_both_insights_show_this_products_failing_stages_by_account():
    generator = re.search(r'GENERATOR_ID: &str = "([^"]+)"', (ROOT / "src" / "asff" / "mod.rs").read_text()).group(1)
    sam = cfn("template.yaml")["Resources"]["FailingStagesInsight"]["Properties"]
    assert sam["GroupByAttribute"] == "AwsAccountId"
    assert sam["Filters"]["GeneratorId"] == [{"Comparison": "EQUALS", "Value": generator}]
    assert sam["Filters"]["ComplianceStatus"] == [{"Comparison": "EQUALS", "Value": "FAILED"}]
    tf = blocks(hcl(TF / "main.tf"), "resource", "aws_securityhub_insight")["failing_stages"]
    assert one(tf["name"]) == sam["Name"]
    assert one(tf["group_by_attribute"]) == "AwsAccountId"
    filters = one(tf["filters"])
    assert one(one(filters["generator_id"])["value"]) == generator
    assert one(one(filters["compliance_status"])["value"]) == "FAILED"


REMEDIATION_ACTIONS = {"apigateway:PATCH", "apigateway:GET", "securityhub:BatchImportFindings", "securityhub:GetFindings"}
PATH_REMEDIATION_ACTIONS = {"lambda:UpdateFunctionConfiguration", "lambda:GetFunctionConfiguration"}


def test_the_remediation_role_allows_nothing_else_and_the_scan_role_stays_read_only():
    member = cfn("member-role.yaml")["Resources"]
    rem = member["RemediationRole"]
    assert rem["Condition"] == "WantsRemediation", "created only when enabled"
    statements = [st for p in rem["Properties"]["Policies"] for st in as_list(p["PolicyDocument"]["Statement"])]
    # The function fix only under its own switch (and never IAM).
    conditional = [st["Fn::If"] for st in statements if "Fn::If" in st]
    assert len(conditional) == 1 and conditional[0][0] == "WantsPathRemediation"
    assert conditional[0][2] == {"Ref": "AWS::NoValue"}
    assert cfn_actions(conditional[0][1]) == PATH_REMEDIATION_ACTIONS
    assert ":lambda:*:${AWS::AccountId}:function:*" in str(conditional[0][1]["Resource"])
    statements = [st for st in statements if "Fn::If" not in st]
    assert set().union(*(cfn_actions(st) for st in statements)) == REMEDIATION_ACTIONS
    patch = [st for st in statements if "apigateway:PATCH" in cfn_actions(st)]
    assert len(patch) == 1 and "/restapis/*/stages/*" in str(patch[0]["Resource"])
    # Trusted exactly like the scan role.
    assert rem["Properties"]["AssumeRolePolicyDocument"] == member["ScanRole"]["Properties"]["AssumeRolePolicyDocument"]
    scan = [st for p in member["ScanRole"]["Properties"]["Policies"] for st in as_list(p["PolicyDocument"]["Statement"])]
    assert "apigateway:PATCH" not in set().union(*(cfn_actions(st) for st in scan))

    tf = hcl(TF / "member-role" / "main.tf")
    docs = blocks(tf, "data", "aws_iam_policy_document")
    assert set().union(*(tf_actions(st) for st in docs["remediate"]["statement"])) == REMEDIATION_ACTIONS
    dynamic = one(docs["remediate"]["dynamic"])["statement"]
    assert one(dynamic["for_each"]) == "${var.enable_trace_path_remediation ? [1] : []}"
    assert tf_actions(one(dynamic["content"])) == PATH_REMEDIATION_ACTIONS
    scan_actions = set().union(*(tf_actions(st) for st in docs["scan"]["statement"]))
    assert not any(a.startswith("iam:") or a == "lambda:UpdateFunctionConfiguration" for a in scan_actions)
    assert "apigateway:PATCH" not in set().union(*(tf_actions(st) for st in docs["scan"]["statement"]))
    role = blocks(tf, "resource", "aws_iam_role")["remediate"]
    assert one(role["count"]) == "${var.enable_remediation ? 1 : 0}"


def test_the_function_may_assume_the_remediation_role_only_when_enabled():
    sam = cfn("template.yaml")
    statements = sam["Resources"]["ScannerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    conditional = [st["Fn::If"] for st in statements if isinstance(st, dict) and "Fn::If" in st]
    assert {c[0] for c in conditional} == {"WantsRemediation", "WantsCost"}
    cost = [c[1] for c in conditional if c[0] == "WantsCost"]
    assert len(cost) == 1 and cfn_actions(cost[0]) == COST_ACTIONS
    assume = [c[1] for c in conditional if c[1]["Action"] == "sts:AssumeRole"][0]
    assert assume["Condition"]["StringEquals"]["aws:ResourceOrgID"] == {"Ref": "OrganizationId"}
    unconditional = set().union(*(cfn_actions(st) for st in statements if "Fn::If" not in st))
    assert "apigateway:PATCH" not in unconditional
    env = sam["Resources"]["ScannerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["APIGW_TRACING_REMEDIATION"] == {"Fn::If": ["WantsRemediation", {"Ref": "RemediationMode"}, "off"]}
    for name in ["EnableXRayTracingAction", "CustomActionRule", "CustomActionPermission"]:
        assert sam["Resources"][name]["Condition"] == "WantsCustomAction", name
    assert sam["Resources"]["EnableXRayTracingAction"]["Properties"]["Id"] == "EnableXRayTracing"
    pattern = sam["Resources"]["CustomActionRule"]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Security Hub Findings - Custom Action"]
    assert pattern["source"] == ["aws.securityhub"]

    text = (TF / "main.tf").read_text()
    assert 'for_each = var.enable_remediation ? [1] : []' in text
    assert 'APIGW_TRACING_REMEDIATION           = var.enable_remediation ? var.remediation_mode : "off"' in text or \
        "var.enable_remediation ? var.remediation_mode : \"off\"" in text
    for res in ["aws_securityhub_action_target", "aws_cloudwatch_event_rule", "aws_lambda_permission"]:
        assert f'resource "{res}" "' in text


def rust_event_names():
    source = (ROOT / "src" / "trigger" / "change.rs").read_text()
    block = source.split("pub const EVENT_NAMES")[1].split("];")[0]
    return sorted(re.findall(r'"([A-Za-z]+)"', block))


def test_the_change_bus_is_bound_to_the_organization_and_members_forward_only_these_events():
    names = rust_event_names()
    assert len(names) == 10
    sam = cfn("template.yaml")["Resources"]
    policy = sam["ChangeEventBusPolicy"]["Properties"]["Statement"]
    assert policy["Action"] == "events:PutEvents"
    assert policy["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    central = sam["ChangeEventRule"]["Properties"]["EventPattern"]
    member = cfn("member-events.yaml")["Resources"]
    forward = member["ForwardRule"]["Properties"]
    assert forward["EventPattern"] == central
    assert sorted(central["detail"]["eventName"]) == names
    assert central["source"] == ["aws.apigateway"] and central["detail-type"] == ["AWS API Call via CloudTrail"]
    assert forward["Targets"][0]["Arn"] == {"Ref": "CentralEventBusArn"}
    role = member["ForwardRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [cfn_actions(st) for st in role] == [{"events:PutEvents"}]
    assert role[0]["Resource"] == {"Ref": "CentralEventBusArn"}

    tf_text = (TF / "main.tf").read_text() + (TF / "member-events" / "main.tf").read_text()
    for name in names:
        assert tf_text.count(f'"{name}"') == 2, name
    tf = hcl(TF / "main.tf")
    bus = blocks(tf, "data", "aws_iam_policy_document")["change_bus"]
    cond = one(one(bus["statement"])["condition"])
    assert one(cond["variable"]) == "aws:PrincipalOrgID" and one(cond["values"]) == ["${var.organization_id}"]


def test_the_member_hook_is_least_privilege_in_both_forms():
    """The hook function writes its logs and nothing else; the hook's
    execution role may invoke that function only; only this account's hooks
    may assume it; WARN is the default; the target filters name the two
    stage-making types."""
    t = cfn("member-hook.yaml")
    res = t["Resources"]
    fn_role = res["HookFunctionRole"]["Properties"]
    fn_actions = set()
    for policy in fn_role["Policies"]:
        for st in as_list(policy["PolicyDocument"]["Statement"]):
            fn_actions |= cfn_actions(st)
    assert fn_actions == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert "ManagedPolicyArns" not in fn_role
    assert "Environment" not in res["HookFunction"]["Properties"]
    exec_role = res["HookExecutionRole"]["Properties"]
    (st,) = as_list(exec_role["Policies"][0]["PolicyDocument"]["Statement"])
    assert cfn_actions(st) == {"lambda:InvokeFunction"}
    assert st["Resource"] == {"Fn::GetAtt": ["HookFunction", "Arn"]}
    trust = as_list(exec_role["AssumeRolePolicyDocument"]["Statement"])[0]
    assert trust["Principal"] == {"Service": "hooks.cloudformation.amazonaws.com"}
    assert "aws:SourceAccount" in str(trust["Condition"]) and "aws:SourceArn" in str(trust["Condition"])
    hook = res["StageTracingHook"]["Properties"]
    assert t["Parameters"]["FailureMode"]["Default"] == "WARN"
    assert hook["TargetFilters"]["TargetNames"] == ["AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment", "AWS::XRay::SamplingRule"]
    assert hook["TargetOperations"] == ["RESOURCE"]

    tf = hcl(TF / "member-hook" / "main.tf")
    docs = blocks(tf, "data", "aws_iam_policy_document")
    assert set().union(*(tf_actions(s) for s in docs["write_logs"]["statement"])) == fn_actions
    assert set().union(*(tf_actions(s) for s in docs["invoke"]["statement"])) == {"lambda:InvokeFunction"}
    variables = {}
    for v in tf["variable"]:
        variables.update(v)
    assert one(variables["failure_mode"]["default"]) == "WARN"
    text = (TF / "member-hook" / "main.tf").read_text()
    assert '"AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment", "AWS::XRay::SamplingRule"' in text
