# apigw-tracing member role, as infra/member-role.yaml. Apply in each member
# account (e.g. with a provider per account, or via your account vending).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "scanner_role_arn" {
  description = "The scanner function's role (central module output scanner_role_arn)."
  type        = string
}

variable "organization_id" {
  description = "The organization id (o-...)."
  type        = string
}

variable "role_name" {
  type    = string
  default = "apigw-tracing-scan"
}

variable "external_id" {
  description = "Optional; when set, AssumeRole must pass this sts:ExternalId."
  type        = string
  default     = ""
  sensitive   = true
}

variable "enable_remediation" {
  description = "Also create the remediation role, which may turn X-Ray tracing on for this account's REST API stages (and nothing else)."
  type        = bool
  default     = false
}

variable "remediation_role_name" {
  type    = string
  default = "apigw-tracing-remediate"
}

variable "cost" {
  description = "Let the scan role read what cost estimates need (cloudwatch:GetMetricData, xray:GetTraceSegmentDestination; read-only): off or on, as the central module's cost."
  type        = string
  default     = "off"
  validation {
    condition     = contains(["off", "on"], var.cost)
    error_message = "cost is off or on."
  }
}

variable "enable_trace_path_remediation" {
  description = "With enable_remediation, also let the remediation role set X-Ray active tracing on this account's Lambda functions (remediate --trace-path); it never writes IAM."
  type        = bool
  default     = false
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "ScannerOnly"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.scanner_role_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
    dynamic "condition" {
      for_each = var.external_id == "" ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

data "aws_iam_policy_document" "scan" {
  statement {
    sid     = "ReadRestApiStages"
    actions = ["apigateway:GET"]
    resources = [
      "arn:${local.partition}:apigateway:*::/restapis",
      "arn:${local.partition}:apigateway:*::/restapis/*/stages",
      "arn:${local.partition}:apigateway:*::/restapis/*/stages/*",
      "arn:${local.partition}:apigateway:*::/restapis/*/resources",
      "arn:${local.partition}:apigateway:*::/restapis/*/authorizers",
    ]
  }
  # The trace path reads each function's TracingConfig: read-only, this
  # account's functions only.
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
    sid       = "ImportOwnFindings"
    actions   = ["securityhub:BatchImportFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:product/${local.account}/default"]
  }
  statement {
    sid       = "ReadFindingsToReconcile"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:hub/default"]
  }
}

resource "aws_iam_role" "scan" {
  name                 = var.role_name
  description          = "Lets apigw-tracing read REST API stages and write its own Security Hub findings here."
  max_session_duration = 3600
  assume_role_policy   = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "scan" {
  name   = "apigw-tracing-scan"
  role   = aws_iam_role.scan.id
  policy = data.aws_iam_policy_document.scan.json
}

output "role_arn" {
  value = aws_iam_role.scan.arn
}

# Separate from the scan role, which stays read-only: only this role may
# write, and only the stage setting remediation changes.
data "aws_iam_policy_document" "remediate" {
  statement {
    sid       = "EnableStageTracing"
    actions   = ["apigateway:PATCH", "apigateway:GET"]
    resources = ["arn:${local.partition}:apigateway:*::/restapis/*/stages/*"]
  }
  statement {
    sid       = "ImportOwnFindings"
    actions   = ["securityhub:BatchImportFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:product/${local.account}/default"]
  }
  statement {
    sid       = "ReadFindingsToKeepCreatedAt"
    actions   = ["securityhub:GetFindings"]
    resources = ["arn:${local.partition}:securityhub:*:${local.account}:hub/default"]
  }
  # remediate --trace-path: TracingConfig on $LATEST, read back.
  dynamic "statement" {
    for_each = var.enable_trace_path_remediation ? [1] : []
    content {
      sid       = "EnableFunctionTracing"
      actions   = ["lambda:UpdateFunctionConfiguration", "lambda:GetFunctionConfiguration"]
      resources = ["arn:${local.partition}:lambda:*:${local.account}:function:*"]
    }
  }
}

resource "aws_iam_role" "remediate" {
  count                = var.enable_remediation ? 1 : 0
  name                 = var.remediation_role_name
  description          = "Lets apigw-tracing turn X-Ray tracing on for REST API stages here, and record the fix in Security Hub."
  max_session_duration = 3600
  assume_role_policy   = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "remediate" {
  count  = var.enable_remediation ? 1 : 0
  name   = "apigw-tracing-remediate"
  role   = aws_iam_role.remediate[0].id
  policy = data.aws_iam_policy_document.remediate.json
}

output "remediation_role_arn" {
  value = var.enable_remediation ? aws_iam_role.remediate[0].arn : null
}
