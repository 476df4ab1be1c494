"""The oracle for Serverless Framework: runs Serverless Framework v3's own
`sls package` (offline) on a service and writes the CloudFormation it
generates, with what Serverless does to the stage after deploy written
into it: its post-deploy step (`lib/plugins/aws/package/compile/events/
api-gateway/lib/hack/update-stage.js`) calls UpdateStage with
provider.tracing.apiGateway and tags the stage with provider.stackTags
overlaid with provider.tags, except on an external API
(provider.apiGateway.restApiId). That becomes the deployment's
StageDescription, from the service configuration as Serverless itself
resolved it (serverless-state.json). Usage: sls_package.py SLS SERVICE_DIR OUT
[CONFIG] (CONFIG: a service file of another name, `sls package --config`)"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sls, service, target = sys.argv[1:4]
config = sys.argv[4:5]
work = tempfile.mkdtemp()
shutil.copytree(service, work, dirs_exist_ok=True)
# Something to package: Serverless refuses a service without code.
with open(os.path.join(work, "handler.js"), "w") as f:
    f.write("exports.handler = async () => ({});\n")
env = dict(
    os.environ,
    SLS_TELEMETRY_DISABLED="1",
    SLS_NOTIFICATIONS_MODE="off",
    SLS_DEPRECATION_DISABLE="*",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    # Nothing leaves this machine: any request goes to a closed loopback port.
    HTTPS_PROXY="http://127.0.0.1:9",
    HTTP_PROXY="http://127.0.0.1:9",
    NO_PROXY="127.0.0.1,localhost",
)
subprocess.run([sls, "package"] + (["--config", config[0]] if config else []), cwd=work, env=env, check=True,
               stdout=subprocess.DEVNULL)
with open(os.path.join(work, ".serverless", "cloudformation-template-update-stack.json")) as f:
    template = json.load(f)
with open(os.path.join(work, ".serverless", "serverless-state.json")) as f:
    provider = json.load(f)["service"]["provider"]

external = bool((provider.get("apiGateway") or {}).get("restApiId"))
tracing = bool((provider.get("tracing") or {}).get("apiGateway"))
tags = dict(provider.get("stackTags") or {})
tags.update(provider.get("tags") or {})
for logical_id, resource in template["Resources"].items():
    props = resource.get("Properties", {})
    if (resource["Type"] == "AWS::ApiGateway::Deployment"
            and logical_id.startswith("ApiGatewayDeployment") and "StageName" in props
            and not external):
        props["StageDescription"] = {
            "TracingEnabled": tracing,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        }
with open(target, "w") as f:
    json.dump(template, f, indent=1)
