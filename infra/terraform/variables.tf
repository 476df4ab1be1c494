# The same settings as the SAM template's parameters (infra/template.yaml);
# tests/infra checks that the two agree.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "apigw-tracing"
}

variable "package_path" {
  description = "The Lambda zip `make package` builds; empty means this repository's target/lambda/apigw-tracing-lambda/bootstrap.zip, found from the module's own directory."
  type        = string
  default     = ""
}

variable "regions" {
  description = "Regions to scan (APIGW_TRACING_REGIONS)."
  type        = list(string)
  validation {
    condition     = length(var.regions) > 0 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "regions: one or more region names such as eu-west-1."
  }
}

variable "accounts" {
  description = "Account ids to scan; empty means every ACTIVE account of the organization."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for a in var.accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "accounts: each account id is exactly 12 digits."
  }
}

variable "exclude_accounts" {
  description = "Account ids never scanned."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for a in var.exclude_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "exclude_accounts: each account id is exactly 12 digits."
  }
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
  validation {
    condition     = can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id: o- followed by 10 to 32 lower-case letters or digits."
  }
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
  validation {
    condition     = var.apigw_rps >= 1 && var.apigw_rps <= 10 && floor(var.apigw_rps) == var.apigw_rps
    error_message = "apigw_rps: a whole number from 1 to 10 (the quota is 10/s, shared with deployments)."
  }
}

variable "securityhub_rps" {
  description = "Max Security Hub requests/s per account and region, per operation."
  type        = number
  default     = 5
  validation {
    condition     = var.securityhub_rps >= 1 && var.securityhub_rps <= 10 && floor(var.securityhub_rps) == var.securityhub_rps
    error_message = "securityhub_rps: a whole number from 1 to 10."
  }
}

variable "concurrency" {
  description = "Account-regions scanned at the same time."
  type        = number
  default     = 8
}

variable "max_attempts" {
  description = "Attempts per AWS request; throttling, 5xx and timeouts are retried with backoff."
  type        = number
  default     = 5
}

variable "deadline_margin_secs" {
  description = "Stop starting account-regions this long before the invocation's deadline."
  type        = number
  default     = 60
}

variable "dry_run" {
  description = "Scan and build findings but send nothing to Security Hub."
  type        = bool
  default     = false
}

variable "fan_out_above" {
  description = "A scheduled (or unscoped manual) run covering more accounts than this only plans: one queue message per account."
  type        = number
  default     = 50
}

variable "queue_batch_size" {
  description = "Accounts one queue-triggered invocation scans."
  type        = number
  default     = 5
}

variable "queue_max_concurrency" {
  description = "Queue-triggered invocations at the same time (event source mapping maximum concurrency)."
  type        = number
  default     = 5
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function; queue_max_concurrency + 1 leaves room for the planner."
  type        = number
  default     = 6
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 365
}

variable "enable_change_events" {
  description = "Create the apigw-tracing event bus (organization only) and the rule that rescans one REST API per forwarded change event."
  type        = bool
  default     = true
}

variable "enable_remediation" {
  description = "Let the function assume the member remediation role (enable_remediation on the member module too). When false it may not, and remediation is off."
  type        = bool
  default     = false
}

variable "remediation_mode" {
  description = "With enable_remediation: off, on-request (Security Hub custom action), or auto (also after each scheduled scan, in remediate_accounts)."
  type        = string
  default     = "off"
  validation {
    condition     = contains(["off", "on-request", "auto"], var.remediation_mode)
    error_message = "remediation_mode: off, on-request or auto."
  }
}

variable "remediate_accounts" {
  description = "For auto: the accounts it may change (12-digit ids), or [\"*\"] for every scanned account."
  type        = list(string)
  default     = []
  validation {
    condition     = var.remediate_accounts == ["*"] || alltrue([for a in var.remediate_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "remediate_accounts: 12-digit account ids, or [\"*\"] alone."
  }
}

variable "remediation_role_name" {
  description = "The member remediation role's name."
  type        = string
  default     = "apigw-tracing-remediate"
}

variable "create_insight" {
  description = "Create the Security Hub insight \"API Gateway stages without X-Ray tracing, by account\" (needs Security Hub enabled in this account)."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "Optional SNS topic the alarms notify."
  type        = string
  default     = ""
}

variable "enable_deploy_hook" {
  description = "Also create the service-managed StackSet that deploys the member hook (infra/member-hook.yaml) to every account of deploy_hook_organizational_unit_ids, in every scanned region."
  type        = bool
  default     = false
}

variable "deploy_hook_template_url" {
  description = "S3 URL of infra/member-hook.yaml, for the StackSet (a module copied by terraform init cannot read files outside itself)."
  type        = string
  default     = ""
}

variable "deploy_hook_organizational_unit_ids" {
  description = "OU ids (or the root id, r-...) whose accounts get the hook."
  type        = list(string)
  default     = []
}

variable "deploy_hook_code_bucket_prefix" {
  description = "The member-hook HookCodeBucketPrefix (buckets <prefix>-<region> holding the hook package)."
  type        = string
  default     = ""
}

variable "deploy_hook_failure_mode" {
  description = "WARN first (the hook's message shows in stack events), then FAIL to refuse."
  type        = string
  default     = "WARN"
  validation {
    condition     = contains(["WARN", "FAIL"], var.deploy_hook_failure_mode)
    error_message = "deploy_hook_failure_mode must be WARN or FAIL."
  }
}

variable "deploy_hook_call_as" {
  description = "SELF in the management account; DELEGATED_ADMIN in a StackSets delegated administrator account."
  type        = string
  default     = "DELEGATED_ADMIN"
  validation {
    condition     = contains(["SELF", "DELEGATED_ADMIN"], var.deploy_hook_call_as)
    error_message = "deploy_hook_call_as must be SELF or DELEGATED_ADMIN."
  }
}

variable "trace_path" {
  description = "Follow each traced stage to its Lambda functions and authorizers, one trace-path finding per traced stage (off or on). Costs one GetResources per API with a traced stage (5 every 2 s per account, shared with your deployments), one GetAuthorizers where its methods use an authorizer, and one GetFunctionConfiguration per distinct function."
  type        = string
  default     = "off"
  validation {
    condition     = contains(["off", "on"], var.trace_path)
    error_message = "trace_path is off or on."
  }
}

variable "sampling" {
  description = "Judge the X-Ray sampling rules of each account-region with a traced stage, one sampling finding per traced stage (off or on). Costs one GetSamplingRules and one GetSamplingStatisticSummaries per such account-region; member roles need xray:GetSamplingRules and xray:GetSamplingStatisticSummaries (an older role gives UNKNOWN, warned)."
  type        = string
  default     = "on"
  validation {
    condition     = contains(["off", "on"], var.sampling)
    error_message = "sampling is off or on."
  }
}

variable "cost" {
  description = "Price the fix of each FAILED stage in its finding, and of each stage the custom action turns on (off or on). Member roles need cloudwatch:GetMetricData and xray:GetTraceSegmentDestination: deploy them with cost = \"on\" too."
  type        = string
  default     = "off"
  validation {
    condition     = contains(["off", "on"], var.cost)
    error_message = "cost is off or on."
  }
}
