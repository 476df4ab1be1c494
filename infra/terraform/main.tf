# apigw-tracing central resources, as infra/template.yaml.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account       = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  alarm_actions = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
  custom_action = var.enable_remediation && var.remediation_mode != "off"
  # Relative to this module, not to where terraform runs.
  package_path = var.package_path != "" ? var.package_path : "${path.module}/../../target/lambda/apigw-tracing-lambda/bootstrap.zip"
}

# Failed asynchronous invocations land here with the reason, for 14 days.
resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# Fan-out: one message per account. Visibility timeout 6 x the function
# timeout, as Lambda's SQS poller needs; a message failing 3 times goes to
# the dead-letter queue.
resource "aws_sqs_queue" "scan" {
  name                       = "${var.name}-scan"
  visibility_timeout_seconds = 5400
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.scan_dlq.arn
    maxReceiveCount     = 3
  })
}

resource "aws_sqs_queue" "scan_dlq" {
  name                      = "${var.name}-scan-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

# As the SAM template: no message may reach a queue over plain HTTP.
data "aws_iam_policy_document" "queue_tls_only" {
  for_each = {
    failures = aws_sqs_queue.failures.arn
    scan     = aws_sqs_queue.scan.arn
    scan_dlq = aws_sqs_queue.scan_dlq.arn
  }
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [each.value]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "tls_only" {
  for_each = {
    failures = aws_sqs_queue.failures.id
    scan     = aws_sqs_queue.scan.id
    scan_dlq = aws_sqs_queue.scan_dlq.id
  }
  queue_url = each.value
  policy    = data.aws_iam_policy_document.queue_tls_only[each.key].json
}

resource "aws_cloudwatch_log_group" "scanner" {
  #checkov:skip=CKV_AWS_158:Logs hold account ids, API ids and stage names, no secrets; CloudWatch Logs' service-managed encryption applies.
  name              = "/aws/lambda/${var.name}-scanner"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "scan" {
  statement {
    sid       = "AssumeMemberScanRole"
    actions   = ["sts:AssumeRole"]
    resources = ["arn:${local.partition}:iam::*:role/${var.member_role_name}"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceOrgID"
      values   = [var.organization_id]
    }
  }
  statement {
    sid       = "ListOrganizationAccounts"
    actions   = ["organizations:ListAccounts"]
    resources = ["*"] # ListAccounts supports no resource-level permissions.
  }
  statement {
    sid     = "ReadOwnRestApiStages"
    actions = ["apigateway:GET"]
    resources = [
      "arn:${local.partition}:apigateway:*::/restapis",
      "arn:${local.partition}:apigateway:*::/restapis/*/stages",
      "arn:${local.partition}:apigateway:*::/restapis/*/stages/*",
      "arn:${local.partition}:apigateway:*::/restapis/*/resources",
      "arn:${local.partition}:apigateway:*::/restapis/*/authorizers",
    ]
  }
  statement {
    sid       = "ReadOwnFunctionTracing"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = ["arn:${local.partition}:lambda:*:${local.account}:function:*"]
  }
  # Sampling verdicts: the rules and their recent statistics, read-only.
  # X-Ray has no resource types for these two actions: only "*" is valid.
  statement {
    sid       = "ReadSamplingRules"
    actions   = ["xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries"]
    resources = ["*"]
  }
  # Cost estimates (cost = "on"): each stage's request count and where
  # traces go, read-only; neither action has a resource type.
  dynamic "statement" {
    for_each = var.cost == "on" ? [1] : []
    content {
      sid       = "ReadTrafficForEstimates"
      actions   = ["cloudwatch:GetMetricData", "xray:GetTraceSegmentDestination"]
      resources = ["*"]
    }
  }
  statement {
    sid       = "OwnAccountFindings"
    actions   = ["securityhub:BatchImportFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:product/${local.account}/default"]
  }
  statement {
    sid       = "ReadOwnAccountFindings"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:hub/default"]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.scanner.arn}:*"]
  }
  statement {
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray's write actions support no resource-level permissions.
  }
  statement {
    sid       = "FailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
  statement {
    sid       = "FanOutPlan"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.scan.arn]
  }
  statement {
    sid       = "FanOutConsume"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.scan.arn]
  }
  # Only with remediation enabled may the function assume the member
  # remediation role (and change its own account's stages).
  dynamic "statement" {
    for_each = var.enable_remediation ? [1] : []
    content {
      sid       = "AssumeMemberRemediationRole"
      actions   = ["sts:AssumeRole"]
      resources = ["arn:${local.partition}:iam::*:role/${var.remediation_role_name}"]
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceOrgID"
        values   = [var.organization_id]
      }
    }
  }
  dynamic "statement" {
    for_each = var.enable_remediation ? [1] : []
    content {
      sid       = "RemediateOwnStages"
      actions   = ["apigateway:PATCH"]
      resources = ["arn:${local.partition}:apigateway:*::/restapis/*/stages/*"]
    }
  }
}

resource "aws_iam_role" "scanner" {
  name               = "${var.name}-scanner"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy" "scan" {
  name   = "scan"
  role   = aws_iam_role.scanner.id
  policy = data.aws_iam_policy_document.scan.json
}

resource "aws_lambda_function" "scanner" {
  #checkov:skip=CKV_AWS_117:Reaches only public AWS APIs; a VPC adds NAT cost and nothing to isolate.
  #checkov:skip=CKV_AWS_173:The environment holds settings only; the external id is not a secret.
  #checkov:skip=CKV_AWS_272:Built from this repository by `make package`; code signing is the deployer's choice.
  function_name    = "${var.name}-scanner"
  description      = "Finds API Gateway REST API stages without X-Ray active tracing; reports them to Security Hub."
  filename         = local.package_path
  source_code_hash = filebase64sha256(local.package_path)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  # 15 minutes (Lambda's maximum): a paced organization-wide scan needs time, not memory.
  timeout     = 900
  memory_size = 256
  # Caps the scanner's share of the account's concurrency. Pacing is per
  # process: each fan-out message names one account.
  reserved_concurrent_executions = var.reserved_concurrency
  role                           = aws_iam_role.scanner.arn

  tracing_config {
    mode = "Active"
  }
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.scanner.name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }
  dead_letter_config {
    target_arn = aws_sqs_queue.failures.arn
  }
  environment {
    # The external id is set only when there is one (empty means none).
    variables = merge({
      APIGW_TRACING_REGIONS               = join(",", var.regions)
      APIGW_TRACING_ACCOUNTS              = join(",", var.accounts)
      APIGW_TRACING_EXCLUDE_ACCOUNTS      = join(",", var.exclude_accounts)
      APIGW_TRACING_EXEMPTIONS            = var.exemptions
      APIGW_TRACING_ROLE_NAME             = var.member_role_name
      APIGW_TRACING_APIGW_RPS             = tostring(var.apigw_rps)
      APIGW_TRACING_SECURITYHUB_RPS       = tostring(var.securityhub_rps)
      APIGW_TRACING_CONCURRENCY           = tostring(var.concurrency)
      APIGW_TRACING_MAX_ATTEMPTS          = tostring(var.max_attempts)
      APIGW_TRACING_DEADLINE_MARGIN_SECS  = tostring(var.deadline_margin_secs)
      APIGW_TRACING_DRY_RUN               = tostring(var.dry_run)
      APIGW_TRACING_QUEUE_URL             = aws_sqs_queue.scan.url
      APIGW_TRACING_FAN_OUT_ABOVE         = tostring(var.fan_out_above)
      APIGW_TRACING_REMEDIATION           = var.enable_remediation ? var.remediation_mode : "off"
      APIGW_TRACING_REMEDIATE_ACCOUNTS    = join(",", var.remediate_accounts)
      APIGW_TRACING_REMEDIATION_ROLE_NAME = var.remediation_role_name
      APIGW_TRACING_TRACE_PATH            = var.trace_path
      APIGW_TRACING_SAMPLING              = var.sampling
      APIGW_TRACING_COST                  = var.cost
      RUST_LOG                            = "info"
    }, var.external_id == "" ? {} : { APIGW_TRACING_EXTERNAL_ID = var.external_id })
  }
}

resource "aws_lambda_event_source_mapping" "scan_queue" {
  event_source_arn        = aws_sqs_queue.scan.arn
  function_name           = aws_lambda_function.scanner.arn
  batch_size              = var.queue_batch_size
  function_response_types = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.queue_max_concurrency
  }
}

resource "aws_lambda_function_event_invoke_config" "scanner" {
  function_name = aws_lambda_function.scanner.function_name
  # A failed run is not retried: the next schedule or a manual rescan covers it.
  maximum_retry_attempts = 0
  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.scanner.arn]
  }
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-scanner"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "scan" {
  #checkov:skip=CKV_AWS_297:The schedule carries no input data; EventBridge Scheduler encrypts it with an AWS-owned key.
  name                = "${var.name}-scan"
  description         = "Full apigw-tracing scan of the organization."
  schedule_expression = var.schedule_expression
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.scanner.arn
    role_arn = aws_iam_role.scheduler.arn
    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
    dead_letter_config {
      arn = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "apigw-tracing did not run (invalid event, no account list, crash). See the logs and the failure queue."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.scanner.function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "partial_runs" {
  alarm_name          = "${var.name}-partial-runs"
  alarm_description   = "An apigw-tracing run was partial. The run summary in the logs names each failure."
  namespace           = "apigw-tracing"
  metric_name         = "PartialRuns"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "failure_queue" {
  alarm_name          = "${var.name}-failure-queue"
  alarm_description   = "A failed apigw-tracing invocation is waiting in the failure queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "A fan-out message failed 3 times (an account that keeps failing, or a malformed message) and is in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.scan_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

# The picture at a glance in the Security Hub console (administrator
# account): this product's failing stages, grouped by account.
resource "aws_securityhub_insight" "failing_stages" {
  count              = var.create_insight ? 1 : 0
  name               = "API Gateway stages without X-Ray tracing, by account"
  group_by_attribute = "AwsAccountId"
  filters {
    generator_id {
      comparison = "EQUALS"
      value      = "apigw-tracing/xray-active-tracing"
    }
    compliance_status {
      comparison = "EQUALS"
      value      = "FAILED"
    }
    record_state {
      comparison = "EQUALS"
      value      = "ACTIVE"
    }
  }
}

# The console button: select findings, Actions -> "Enable X-Ray tracing".
# Custom actions fire in the account where a person selects the findings
# (the Security Hub administrator): apply this module there.
resource "aws_securityhub_action_target" "enable_xray_tracing" {
  count       = local.custom_action ? 1 : 0
  identifier  = "EnableXRayTracing"
  name        = "Enable X-Ray tracing"
  description = "Turn on X-Ray active tracing for the selected API Gateway stages (apigw-tracing)"
}

resource "aws_cloudwatch_event_rule" "custom_action" {
  count       = local.custom_action ? 1 : 0
  name        = "${var.name}-custom-action"
  description = "apigw-tracing custom action -> the scanner function, which remediates the selected findings."
  event_pattern = jsonencode({
    source        = ["aws.securityhub"]
    "detail-type" = ["Security Hub Findings - Custom Action"]
    resources     = [aws_securityhub_action_target.enable_xray_tracing[0].arn]
  })
}

resource "aws_cloudwatch_event_target" "custom_action" {
  count = local.custom_action ? 1 : 0
  rule  = aws_cloudwatch_event_rule.custom_action[0].name
  arn   = aws_lambda_function.scanner.arn
}

resource "aws_lambda_permission" "custom_action" {
  count         = local.custom_action ? 1 : 0
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.scanner.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.custom_action[0].arn
}

# React: member accounts forward API Gateway changes here (rules on their
# default buses, the member-events module, per region); only accounts of
# this organization may put events on this bus.
locals {
  change_event_pattern = jsonencode({
    source        = ["aws.apigateway"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["apigateway.amazonaws.com"]
      eventName   = ["CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "DeleteRestApi", "ImportRestApi", "PutRestApi", "CreateRestApi", "TagResource", "UntagResource"]
    }
  })
}

resource "aws_cloudwatch_event_bus" "changes" {
  count = var.enable_change_events ? 1 : 0
  name  = "apigw-tracing"
}

data "aws_iam_policy_document" "change_bus" {
  count = var.enable_change_events ? 1 : 0
  statement {
    sid       = "OrganizationMembersOnly"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.changes[0].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "changes" {
  count          = var.enable_change_events ? 1 : 0
  event_bus_name = aws_cloudwatch_event_bus.changes[0].name
  policy         = data.aws_iam_policy_document.change_bus[0].json
}

resource "aws_cloudwatch_event_rule" "changes" {
  count          = var.enable_change_events ? 1 : 0
  name           = "${var.name}-changes"
  description    = "A REST API changed in a member account -> rescan that API."
  event_bus_name = aws_cloudwatch_event_bus.changes[0].name
  event_pattern  = local.change_event_pattern
}

resource "aws_cloudwatch_event_target" "changes" {
  count          = var.enable_change_events ? 1 : 0
  rule           = aws_cloudwatch_event_rule.changes[0].name
  event_bus_name = aws_cloudwatch_event_bus.changes[0].name
  arn            = aws_lambda_function.scanner.arn
}

resource "aws_lambda_permission" "changes" {
  count         = var.enable_change_events ? 1 : 0
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.scanner.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.changes[0].arn
}

# The member hook, org-wide: its function runs in each member account and
# region (the Hooks User Guide's execution role invokes "that Hook in your
# AWS account").
resource "aws_cloudformation_stack_set" "deploy_hook" {
  count            = var.enable_deploy_hook ? 1 : 0
  name             = "apigw-tracing-hook"
  description      = "apigw-tracing deploy-time hook (member side)"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.deploy_hook_call_as
  capabilities     = ["CAPABILITY_IAM"]
  template_url     = var.deploy_hook_template_url
  parameters = {
    FailureMode          = var.deploy_hook_failure_mode
    HookCodeBucketPrefix = var.deploy_hook_code_bucket_prefix
  }
  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }
  managed_execution {
    active = true
  }
  operation_preferences {
    region_concurrency_type      = "PARALLEL"
    max_concurrent_percentage    = 25
    failure_tolerance_percentage = 10
  }
  lifecycle {
    ignore_changes = [administration_role_arn]
    precondition {
      condition     = var.deploy_hook_template_url != "" && length(var.deploy_hook_organizational_unit_ids) > 0 && var.deploy_hook_code_bucket_prefix != ""
      error_message = "enable_deploy_hook needs deploy_hook_template_url (infra/member-hook.yaml uploaded to S3), deploy_hook_organizational_unit_ids and deploy_hook_code_bucket_prefix."
    }
  }
}

resource "aws_cloudformation_stack_set_instance" "deploy_hook" {
  for_each       = var.enable_deploy_hook ? toset(var.regions) : toset([])
  stack_set_name = aws_cloudformation_stack_set.deploy_hook[0].name
  call_as        = var.deploy_hook_call_as
  region         = each.value
  deployment_targets {
    organizational_unit_ids = var.deploy_hook_organizational_unit_ids
  }
}
