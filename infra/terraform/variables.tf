# The same settings as the SAM template's parameters (infra/template.yaml);
# tests/infra checks that the two agree.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "apigw-tracing"
}

variable "package_path" {
  description = "The Lambda zip `make package` builds."
  type        = string
  default     = "../../target/lambda/apigw-tracing-lambda/bootstrap.zip"
}

variable "regions" {
  description = "Regions to scan (APIGW_TRACING_REGIONS)."
  type        = list(string)
}

variable "accounts" {
  description = "Account ids to scan; empty means every ACTIVE account of the organization."
  type        = list(string)
  default     = []
}

variable "exclude_accounts" {
  description = "Account ids never scanned."
  type        = list(string)
  default     = []
}

variable "exemptions" {
  description = "Configured exemptions, a JSON array (README, Exemptions)."
  type        = string
  default     = ""
}

variable "member_role_name" {
  description = "Role the member-role module/StackSet creates in every member account."
  type        = string
  default     = "apigw-tracing-scan"
}

variable "external_id" {
  description = "Optional sts:ExternalId; must match the member role's."
  type        = string
  default     = ""
  sensitive   = true
}

variable "organization_id" {
  description = "The organization id (o-...); roles may be assumed only inside it."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression for the full scan."
  type        = string
  default     = "rate(1 day)"
}

variable "apigw_rps" {
  description = "Max API Gateway requests/s per account and region (quota 10, shared)."
  type        = number
  default     = 5
}

variable "securityhub_rps" {
  description = "Max Security Hub requests/s per account and region."
  type        = number
  default     = 5
}

variable "concurrency" {
  description = "Account-regions scanned at the same time."
  type        = number
  default     = 8
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 365
}

variable "alarm_topic_arn" {
  description = "Optional SNS topic the alarms notify."
  type        = string
  default     = ""
}
