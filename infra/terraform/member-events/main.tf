# apigw-tracing change events, member side, as infra/member-events.yaml:
# forwards API Gateway change events from this account's default bus to the
# central bus. EventBridge rules are regional: apply once per scanned region
# (a provider per account and region). Needs CloudTrail management events.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "central_event_bus_arn" {
  description = "The central module's change_event_bus_arn output."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[\\w.-]+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn: an EventBridge bus ARN."
  }
}

variable "name" {
  description = "Prefix of the rule and role names (the role name also carries the region: IAM is global)."
  type        = string
  default     = "apigw-tracing"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "forward" {
  statement {
    actions   = ["events:PutEvents"]
    resources = [var.central_event_bus_arn]
  }
}

resource "aws_iam_role" "forward" {
  name               = "${var.name}-forward-${data.aws_region.current.name}"
  description        = "Lets EventBridge forward API Gateway change events to the apigw-tracing bus."
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "forward" {
  name   = "forward-to-apigw-tracing"
  role   = aws_iam_role.forward.id
  policy = data.aws_iam_policy_document.forward.json
}

resource "aws_cloudwatch_event_rule" "forward" {
  name        = "${var.name}-forward"
  description = "API Gateway REST API changes -> the apigw-tracing bus (only these events)."
  event_pattern = jsonencode({
    source        = ["aws.apigateway"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["apigateway.amazonaws.com"]
      eventName   = ["CreateStage", "UpdateStage", "DeleteStage", "CreateDeployment", "DeleteRestApi", "ImportRestApi", "PutRestApi", "CreateRestApi", "TagResource", "UntagResource"]
    }
  })
}

resource "aws_cloudwatch_event_target" "forward" {
  rule     = aws_cloudwatch_event_rule.forward.name
  arn      = var.central_event_bus_arn
  role_arn = aws_iam_role.forward.arn
}
