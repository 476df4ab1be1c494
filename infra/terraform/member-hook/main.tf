# apigw-tracing deploy-time hook, member side, as infra/member-hook.yaml:
# the hook's own small function (no AWS SDK client; its role can only write
# its logs), the role CloudFormation Hooks assume to invoke it, and the
# CloudFormation Lambda hook. Hooks are regional: apply in each member
# account and region (a provider per account-region), or use the StackSet.
#
# The hashicorp/aws provider has no resource for a Lambda hook (5.x), so
# the hook itself is a one-resource CloudFormation stack
# (AWS::CloudFormation::LambdaHook), created here.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "failure_mode" {
  description = "WARN lets the operation go on with the hook's message in the stack events (roll out with this); FAIL refuses it."
  type        = string
  default     = "WARN"
  validation {
    condition     = contains(["WARN", "FAIL"], var.failure_mode)
    error_message = "failure_mode must be WARN or FAIL."
  }
}

variable "package_path" {
  description = "The hook zip `make package` builds; empty means this repository's target/lambda/apigw-tracing-hook/bootstrap.zip, found from the module's own directory."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  type    = number
  default = 30
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account      = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  package_path = var.package_path != "" ? var.package_path : "${path.module}/../../../target/lambda/apigw-tracing-hook/bootstrap.zip"
}

resource "aws_cloudwatch_log_group" "hook" {
  #checkov:skip=CKV_AWS_158:Logs hold account ids, stack ids, logical ids and verdicts, no secrets; the service-managed encryption of CloudWatch Logs applies.
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): decisions are worth weeks, not a year.
  name              = "/aws/lambda/apigw-tracing-hook"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "function_trust" {
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

# The function's own role: it can write its logs, nothing else.
resource "aws_iam_role" "function" {
  name_prefix        = "apigw-tracing-hook-fn-"
  description        = "apigw-tracing hook function; writes its own logs only."
  assume_role_policy = data.aws_iam_policy_document.function_trust.json
}

data "aws_iam_policy_document" "write_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.hook.arn}:*"]
  }
}

resource "aws_iam_role_policy" "write_logs" {
  name   = "write-own-logs"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.write_logs.json
}

resource "aws_lambda_function" "hook" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by CloudFormation Hooks, which reports a failed invocation itself; a DLQ applies to asynchronous invocations only.
  #checkov:skip=CKV_AWS_117:Calls nothing; it only answers the hook's request.
  #checkov:skip=CKV_AWS_173:No environment variables.
  #checkov:skip=CKV_AWS_272:Built from this repository by `make package`; code signing is the deployer's choice.
  function_name    = "apigw-tracing-hook"
  description      = "CloudFormation Lambda hook - API Gateway stages must have X-Ray active tracing (apigw-tracing)."
  filename         = local.package_path
  source_code_hash = filebase64sha256(local.package_path)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  # The decision takes microseconds; Hooks wait up to 30 s.
  timeout                        = 10
  memory_size                    = 128
  reserved_concurrent_executions = 10
  role                           = aws_iam_role.function.arn

  tracing_config {
    mode = "Active"
  }
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.hook.name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }
}

data "aws_iam_policy_document" "hook_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["hooks.cloudformation.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudformation:${data.aws_region.current.name}:${local.account}:type/hook/*"]
    }
  }
}

# What the hook assumes to invoke the function: this function only.
resource "aws_iam_role" "hook" {
  name_prefix        = "apigw-tracing-hook-"
  description        = "CloudFormation Hooks invoke the apigw-tracing hook function with this role."
  assume_role_policy = data.aws_iam_policy_document.hook_trust.json
}

data "aws_iam_policy_document" "invoke" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.hook.arn]
  }
}

resource "aws_iam_role_policy" "invoke" {
  name   = "invoke-hook-function"
  role   = aws_iam_role.hook.id
  policy = data.aws_iam_policy_document.invoke.json
}

resource "aws_cloudformation_stack" "hook" {
  #checkov:skip=CKV_AWS_124:A one-resource stack holding the hook registration; its events are not worth a topic.
  name = "apigw-tracing-hook"
  template_body = jsonencode({
    Resources = {
      StageTracingHook = {
        Type = "AWS::CloudFormation::LambdaHook"
        Properties = {
          Alias            = "ApigwTracing::Stage::XrayTracing"
          LambdaFunction   = aws_lambda_function.hook.arn
          ExecutionRole    = aws_iam_role.hook.arn
          FailureMode      = var.failure_mode
          HookStatus       = "ENABLED"
          TargetOperations = ["RESOURCE"]
          TargetFilters = {
            Actions          = ["CREATE", "UPDATE"]
            InvocationPoints = ["PRE_PROVISION"]
            TargetNames      = ["AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment", "AWS::XRay::SamplingRule"]
          }
        }
      }
    }
  })
  depends_on = [aws_iam_role_policy.invoke]
}

output "hook_function_arn" {
  value = aws_lambda_function.hook.arn
}

output "hook_execution_role_arn" {
  value = aws_iam_role.hook.arn
}
