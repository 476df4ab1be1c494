"""Transforms a SAM template with aws-sam-translator (the library behind
`sam build`/`sam deploy` and CloudFormation's SAM transform) and writes the
CloudFormation it produces as JSON. Local CodeUri values become S3 URIs
first, as `sam package` would make them. Usage: sam_translate.py IN OUT"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class NoManagedPolicies:
    """No IAM: the fixtures name no managed policy."""

    def load(self):
        return {}


source, target = sys.argv[1:3]
with open(source) as f:
    template = yaml_parse(f.read())
packaged = "s3://apigw-tracing-fixtures/code.zip"
function_globals = template.get("Globals", {}).get("Function", {})
if isinstance(function_globals.get("CodeUri"), str):
    function_globals["CodeUri"] = packaged
for resource in template.get("Resources", {}).values():
    if resource.get("Type") == "AWS::Serverless::Function":
        props = resource.setdefault("Properties", {})
        if "InlineCode" not in props:
            props["CodeUri"] = packaged
out = transform(template, {}, NoManagedPolicies())
with open(target, "w") as f:
    json.dump(out, f, indent=1)
