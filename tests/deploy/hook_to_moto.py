"""Deploys infra/member-hook.yaml into moto as the member StackSet would
(the hook package uploaded to the region's code bucket, the stack created
through CloudFormation) and prints what was deployed as JSON: the stack's
status and resources, the function's configuration, and both roles' trust
and inline policies. Usage: hook_to_moto.py ENDPOINT TEMPLATE ZIP"""

import ast
import json
import sys
import time

import boto3

endpoint, template_path, zip_path = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="eu-west-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
s3 = boto3.client("s3", **kw)
cfn = boto3.client("cloudformation", **kw)
lam = boto3.client("lambda", **kw)
iam = boto3.client("iam", **kw)

s3.create_bucket(Bucket="apigw-tracing-code-eu-west-1",
                 CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
with open(zip_path, "rb") as f:
    s3.put_object(Bucket="apigw-tracing-code-eu-west-1",
                  Key="apigw-tracing-hook/bootstrap.zip", Body=f.read())
with open(template_path) as f:
    cfn.create_stack(
        StackName="apigw-tracing-hook",
        TemplateBody=f.read(),
        Parameters=[
            {"ParameterKey": "HookCodeBucketPrefix", "ParameterValue": "apigw-tracing-code"},
            {"ParameterKey": "FailureMode", "ParameterValue": "FAIL"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
for _ in range(120):
    stack = cfn.describe_stacks(StackName="apigw-tracing-hook")["Stacks"][0]
    if not stack["StackStatus"].endswith("IN_PROGRESS"):
        break
    time.sleep(0.25)
resources = {
    r["LogicalResourceId"]: {"type": r["ResourceType"], "id": r.get("PhysicalResourceId")}
    for r in cfn.describe_stack_resources(StackName="apigw-tracing-hook")["StackResources"]
    if "LogicalResourceId" in r
}


def document(d):
    """moto keeps a CloudFormation inline policy as the Python repr of its
    dict; IAM itself returns JSON (which boto3 decodes)."""
    if isinstance(d, str):
        try:
            return json.loads(d)
        except ValueError:
            return ast.literal_eval(d)
    return d


def role(name):
    r = iam.get_role(RoleName=name)["Role"]
    policies = [
        document(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
    ]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    return {"trust": r["AssumeRolePolicyDocument"], "policies": policies, "attached": attached}


function = lam.get_function(FunctionName="apigw-tracing-hook")["Configuration"]
print(json.dumps({
    "status": stack["StackStatus"],
    "resources": resources,
    "function": function,
    "function_role": role(function["Role"].split("/")[-1]),
    "execution_role": role(resources["HookExecutionRole"]["id"]),
}, default=str))
