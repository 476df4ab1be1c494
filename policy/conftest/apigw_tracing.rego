# apigw-tracing: API Gateway REST API stages must have X-Ray active tracing.
# A Conftest policy for Terraform plans as JSON:
#
#   terraform show -json tfplan > tfplan.json
#   conftest test --policy policy/conftest tfplan.json
#
# The same rule as `apigw-tracing check` on a plan (tested against it with
# a Rego engine, tests/it/policy.rs):
#
# - aws_api_gateway_stage: xray_tracing_enabled true; null or absent is OFF
#   (a one-line `after.xray_tracing_enabled == false` misses that, the most
#   common case); known only after apply is a warning;
# - awscc_apigateway_stage: tracing_enabled the same way, except that unset
#   in the configuration is OFF (the plan shows the Optional+Computed
#   attribute as known after apply; CloudFormation's default is off);
# - aws_api_gateway_deployment with stage_name: the stage it creates cannot
#   have tracing: denied;
# - exempt: a tag apigw-tracing:exempt with a reason (tags_all included, so
#   the provider's default_tags count), and, when apigw-tracing:exempt-until
#   is set, a YYYY-MM-DD date not yet past (through that day, UTC).
package main

import rego.v1

exempt_tag := "apigw-tracing:exempt"

until_tag := "apigw-tracing:exempt-until"

tracing_field := {
	"aws_api_gateway_stage": "xray_tracing_enabled",
	"awscc_apigateway_stage": "tracing_enabled",
}

fixes := {
	"aws_api_gateway_stage": "set xray_tracing_enabled = true",
	"awscc_apigateway_stage": "set tracing_enabled = true",
}

# Stage resources the plan creates, updates or keeps (not only deletes).
stages contains rc if {
	some rc in input.resource_changes
	tracing_field[rc.type]
	rc.change.actions != ["delete"]
}

deployment_stages contains rc if {
	some rc in input.resource_changes
	rc.type == "aws_api_gateway_deployment"
	rc.change.actions != ["delete"]
	creates_stage(rc)
}

creates_stage(rc) if {
	is_string(rc.change.after.stage_name)
	rc.change.after.stage_name != ""
}

creates_stage(rc) if rc.change.after_unknown.stage_name == true

traced(rc) if rc.change.after[tracing_field[rc.type]] == true

known_after_apply(rc) if rc.change.after_unknown[tracing_field[rc.type]] == true

# The configuration's modules, three levels deep (the root, its calls, and
# theirs).
config_modules contains input.configuration.root_module

config_modules contains m if {
	some call in input.configuration.root_module.module_calls
	m := call.module
}

config_modules contains m if {
	some call in input.configuration.root_module.module_calls
	some inner in call.module.module_calls
	m := inner.module
}

# awscc: the configuration sets tracing_enabled (to something computed).
configured(rc) if {
	rc.type == "awscc_apigateway_stage"
	some m in config_modules
	some r in m.resources
	r.type == rc.type
	r.name == rc.name
	r.expressions.tracing_enabled
}

unknown(rc) if {
	known_after_apply(rc)
	rc.type == "aws_api_gateway_stage"
}

unknown(rc) if {
	known_after_apply(rc)
	configured(rc)
}

tag_map(v) := v if is_object(v)

tag_map(v) := {t.key: t.value | some t in v} if is_array(v)

tag_map(v) := {} if {
	not is_object(v)
	not is_array(v)
}

tags(after) := object.union(tag_map(object.get(after, "tags_all", null)), tag_map(object.get(after, "tags", null)))

exempt(after) if {
	t := tags(after)
	regex.match(`\S`, t[exempt_tag])
	not t[until_tag]
}

exempt(after) if {
	t := tags(after)
	regex.match(`\S`, t[exempt_tag])
	not_past(t[until_tag])
}

# YYYY-MM-DD, today or later (UTC). Compared as [year, month, day]: a date
# past 2262 is beyond nanosecond time, and exemptions may say 2999-12-31.
not_past(until) if {
	regex.match(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`, until)
	# Month and day without their leading zero: "08" is no JSON number.
	parts := [
		to_number(substring(until, 0, 4)),
		to_number(trim_left(substring(until, 5, 2), "0")),
		to_number(trim_left(substring(until, 8, 2), "0")),
	]
	parts >= time.date(time.now_ns())
}

stage_name(rc) := rc.change.after.stage_name if is_string(rc.change.after.stage_name)

stage_name(rc) := "(known after apply)" if not is_string(rc.change.after.stage_name)

deny contains msg if {
	some rc in stages
	not traced(rc)
	not unknown(rc)
	not exempt(rc.change.after)
	msg := sprintf("%s: stage %s is created without X-Ray tracing; fix: %s", [rc.address, stage_name(rc), fixes[rc.type]])
}

deny contains msg if {
	some rc in deployment_stages
	msg := sprintf(
		"%s: stage_name %s creates a stage whose tracing cannot be set; fix: remove stage_name and create the stage with an aws_api_gateway_stage resource that sets xray_tracing_enabled = true",
		[rc.address, stage_name(rc)],
	)
}

warn contains msg if {
	some rc in stages
	unknown(rc)
	msg := sprintf("%s: X-Ray tracing is known only after apply; check the applied stage (apigw-tracing scan)", [rc.address])
}

# Stages off but exempted, for reports (conftest prints deny and warn only).
exempted contains rc.address if {
	some rc in stages
	not traced(rc)
	not unknown(rc)
	exempt(rc.change.after)
}
