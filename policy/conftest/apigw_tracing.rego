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
#   is set, a calendar date YYYY-MM-DD not yet past (through that day, UTC;
#   2099-02-31 is no date and voids the exemption).
# - aws_xray_sampling_rule: denied when it records nothing (reservoir_size
#   0, fixed_rate 0, no sampling_rate_boost max_rate above 0) of every
#   request (host, http_method, url_path `*`, no attributes) of the API
#   Gateway stages it takes (service_type `*`, `AWS::ApiGateway::*` or
#   `AWS::ApiGateway::Stage`): they trace and record nothing. The same
#   exemption tags apply; a deciding value known only after apply is a
#   warning.
#
# Written for both Rego engines users run it with: OPA's Go engine (what
# Conftest embeds) and regorus. Every field that a plan may leave out is
# read with object.get: in OPA, a comparison or call over a missing key is
# undefined, and a deny rule built on it silently disappears.
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

# A change's planned values (`after`), {} when the plan has none (a delete,
# or a malformed change).
after(rc) := a if {
	a := object.get(object.get(rc, "change", {}), "after", null)
	is_object(a)
}

after(rc) := {} if not is_object(object.get(object.get(rc, "change", {}), "after", null))

# `after_unknown`: true where a value is known only after apply.
after_unknown(rc) := a if {
	a := object.get(object.get(rc, "change", {}), "after_unknown", null)
	is_object(a)
}

after_unknown(rc) := {} if not is_object(object.get(object.get(rc, "change", {}), "after_unknown", null))

planned(rc, field) := object.get(after(rc), field, null)

unknown_after_apply(rc, field) if object.get(after_unknown(rc), field, false) == true

# Changes that create, update or keep a resource (not only delete it).
kept(rc) if object.get(object.get(rc, "change", {}), "actions", []) != ["delete"]

stages contains rc if {
	some rc in input.resource_changes
	tracing_field[rc.type]
	kept(rc)
}

deployment_stages contains rc if {
	some rc in input.resource_changes
	rc.type == "aws_api_gateway_deployment"
	kept(rc)
	creates_stage(rc)
}

creates_stage(rc) if {
	is_string(planned(rc, "stage_name"))
	planned(rc, "stage_name") != ""
}

creates_stage(rc) if unknown_after_apply(rc, "stage_name")

traced(rc) if planned(rc, tracing_field[rc.type]) == true

known_after_apply(rc) if unknown_after_apply(rc, tracing_field[rc.type])

# The configuration module a change belongs to: its module_address
# (`module.a["k"].module.b[0]`) without instance keys, as the path of
# module_calls from the root (`module.a.module.b` -> a, b).
module_path(rc) := [name |
	names := split(regex.replace(object.get(rc, "module_address", ""), `\[[^\]]*\]`, ""), ".")
	some i, name in names
	i % 2 == 1
]

config_module(rc) := m if {
	path := [step | some name in module_path(rc); some step in ["module_calls", name, "module"]]
	m := object.get(object.get(input, "configuration", {}), array.concat(["root_module"], path), null)
	is_object(m)
}

# awscc: the configuration of this very module sets tracing_enabled (to
# something computed); the same resource name in another module does not
# count.
configured(rc) if {
	rc.type == "awscc_apigateway_stage"
	some r in object.get(config_module(rc), "resources", [])
	r.type == rc.type
	r.name == rc.name
	object.get(object.get(r, "expressions", {}), "tracing_enabled", null) != null
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

tag_map(v) := {t.key: t.value | some t in v; is_object(t)} if is_array(v)

tag_map(v) := {} if {
	not is_object(v)
	not is_array(v)
}

tags(rc) := object.union(tag_map(planned(rc, "tags_all")), tag_map(planned(rc, "tags")))

exempt(rc) if {
	t := tags(rc)
	regex.match(`\S`, object.get(t, exempt_tag, ""))
	object.get(t, until_tag, null) == null
}

exempt(rc) if {
	t := tags(rc)
	regex.match(`\S`, object.get(t, exempt_tag, ""))
	not_past(object.get(t, until_tag, null))
}

# A calendar date: months of 31 and 30 days, February to the 28th, the 29th
# in leap years (every 4th year but centuries not divisible by 400).
calendar_date(d) if regex.match(`^[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))$`, d)

calendar_date(d) if regex.match(`^([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29$`, d)

# Today or later (UTC). Compared as [year, month, day]: a date past 2262
# is beyond nanosecond time, and exemptions may say 2999-12-31.
not_past(until) if {
	is_string(until)
	calendar_date(until)
	# Month and day without their leading zero: "08" is no JSON number.
	parts := [
		to_number(substring(until, 0, 4)),
		to_number(trim_left(substring(until, 5, 2), "0")),
		to_number(trim_left(substring(until, 8, 2), "0")),
	]
	parts >= time.date(time.now_ns())
}

stage_name(rc) := planned(rc, "stage_name") if is_string(planned(rc, "stage_name"))

stage_name(rc) := "(known after apply)" if not is_string(planned(rc, "stage_name"))

deny contains msg if {
	some rc in stages
	not traced(rc)
	not unknown(rc)
	not exempt(rc)
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
	exempt(rc)
}

# Sampling rules: the deploy-time rule for one rule on its own (the Lambda
# hook's and the Guard file's).
sampling_rules contains rc if {
	some rc in input.resource_changes
	rc.type == "aws_xray_sampling_rule"
	kept(rc)
}

stage_service_types := {"*", "AWS::ApiGateway::*", "AWS::ApiGateway::Stage"}

positive(rc, field) if {
	v := planned(rc, field)
	is_number(v)
	v > 0
}

boosted(rc) if {
	some b in object.get(after(rc), "sampling_rate_boost", [])
	is_number(object.get(b, "max_rate", null))
	b.max_rate > 0
}

# It records something: a reservoir, a rate or a boost above 0.
records(rc) if positive(rc, "reservoir_size")

records(rc) if positive(rc, "fixed_rate")

records(rc) if boosted(rc)

# It takes only some requests, or no API Gateway stage.
narrow(rc) if {
	some field in ["host", "http_method", "url_path"]
	v := planned(rc, field)
	is_string(v)
	not regex.match(`^\*+$`, v)
}

narrow(rc) if {
	v := planned(rc, "service_type")
	is_string(v)
	not stage_service_types[v]
}

narrow(rc) if {
	a := object.get(after(rc), "attributes", {})
	is_object(a)
	count(a) > 0
}

sampling_fields := ["reservoir_size", "fixed_rate", "sampling_rate_boost", "host", "http_method", "url_path", "service_type", "attributes"]

sampling_unknown(rc) if {
	some field in sampling_fields
	unknown_after_apply(rc, field)
}

# Known to record nothing of every request of the stages it takes.
blinds(rc) if {
	not records(rc)
	not narrow(rc)
	not sampling_unknown(rc)
	planned(rc, "reservoir_size") == 0
	planned(rc, "fixed_rate") == 0
	is_string(planned(rc, "service_type"))
}

rule_name(rc) := planned(rc, "rule_name") if is_string(planned(rc, "rule_name"))

rule_name(rc) := "(known after apply)" if not is_string(planned(rc, "rule_name"))

deny contains msg if {
	some rc in sampling_rules
	blinds(rc)
	not exempt(rc)
	msg := sprintf(
		"%s: sampling rule %s records nothing (reservoir 0, rate 0) of every request of the API Gateway stages it takes: they trace and stay blind; fix: set reservoir_size = 1 and fixed_rate = 0.05, narrow it with url_path, http_method or host, or tag it apigw-tracing:exempt",
		[rc.address, rule_name(rc)],
	)
}

warn contains msg if {
	some rc in sampling_rules
	not records(rc)
	not narrow(rc)
	sampling_unknown(rc)
	msg := sprintf("%s: whether sampling rule %s records anything is known only after apply", [rc.address, rule_name(rc)])
}

exempted contains rc.address if {
	some rc in sampling_rules
	blinds(rc)
	exempt(rc)
}
