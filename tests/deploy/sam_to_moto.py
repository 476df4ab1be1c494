"""Deploys infra/template.yaml into moto the way `sam deploy` would: the
code uploaded to S3, the template transformed by aws-sam-translator (the
library the SAM CLI and CloudFormation's SAM transform use), the stack
created through CloudFormation. Prints the deployed function's environment
as JSON. Usage: sam_to_moto.py ENDPOINT TEMPLATE ZIP"""

import json
import sys
import time

import os

import boto3
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

endpoint, template_path, zip_path = sys.argv[1:4]
# The translator reads the region from the default boto3 session.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", **kw)
cfn = boto3.client("cloudformation", **kw)
lam = boto3.client("lambda", **kw)

s3.create_bucket(Bucket="apigw-tracing-artifacts")
with open(zip_path, "rb") as f:
    s3.put_object(Bucket="apigw-tracing-artifacts", Key="bootstrap.zip", Body=f.read())

with open(template_path) as f:
    template = yaml_parse(f.read())
# What `sam package` does to a local CodeUri.
template["Resources"]["ScannerFunction"]["Properties"]["CodeUri"] = "s3://apigw-tracing-artifacts/bootstrap.zip"
# moto has no Security Hub CreateInsight.
params = {"Regions": "eu-west-1", "OrganizationId": "o-abcdefghij", "CreateInsight": "false", "TracePath": "on"}
translated = transform(template, params, ManagedPolicyLoader(boto3.client("iam", **kw)))

cfn.create_stack(
    StackName="apigw-tracing",
    TemplateBody=json.dumps(translated),
    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
    Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_IAM"],
)
def wait(stack):
    for _ in range(120):
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    if status != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        sys.exit(f"stack {stack} {status}: " + json.dumps([e.get("ResourceStatusReason") for e in events][:5]))
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}


outputs = wait("apigw-tracing")
# The member side, as the StackSets would create it in one account: the
# scan and remediation roles, and the change-event forwarding rule.
member_stacks = {
    "apigw-tracing-member-role": ("member-role.yaml", {
        "ScannerRoleArn": outputs["ScannerRoleArn"], "OrganizationId": "o-abcdefghij", "EnableRemediation": "true",
        "EnableTracePathRemediation": "true"}),
    "apigw-tracing-member-events": ("member-events.yaml", {"CentralEventBusArn": outputs["ChangeEventBusArn"]}),
}
member_outputs = {}
for stack, (name, p) in member_stacks.items():
    with open(template_path.replace("template.yaml", name)) as f:
        cfn.create_stack(StackName=stack, TemplateBody=f.read(), Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in p.items()])
    member_outputs.update(wait(stack))
# moto lists the resources it skipped (queue policy, schedule, alarms) blank.
resources = cfn.list_stack_resources(StackName="apigw-tracing")["StackResourceSummaries"]
name = next(r["PhysicalResourceId"] for r in resources if r.get("LogicalResourceId") == "ScannerFunction")
env = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
print(json.dumps({"function": name, "environment": env, "outputs": outputs, "member_outputs": member_outputs}))
