"""template.yaml as CloudFormation deploys it, printed as JSON.

CloudFormation expands `Transform: AWS::Serverless-2016-10-31` with AWS's SAM translator
(aws-sam-translator); this runs the same library, so cfn-lint and tests/template_transformed.rs
check the resources a deploy creates (functions, their triggers, roles, URL and layer), not the
SAM shorthand. Nothing is sent to AWS: the template names no managed policy by name, so the
translator needs no IAM lookup. CloudFormation is given the packaged template, whose code and
layer are S3 objects: local paths become the S3 URIs `sam package` would write
(scripts/sam-package.sh checks the real ones).

    .venv-tools/bin/python scripts/sam-transform.py template.yaml > target/sam/template.json
"""

import json
import sys

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse


# The property `sam package` replaces with the uploaded zip's S3 URI, per resource type.
PACKAGED = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


def as_packaged(sam_template: dict) -> dict:
    for name, resource in sam_template["Resources"].items():
        key = PACKAGED.get(resource.get("Type"))
        properties = resource.get("Properties", {})
        if key and not str(properties.get(key, "")).startswith("s3://"):
            properties[key] = f"s3://sam-package-artifacts/{name}.zip"
    return sam_template


def main(path: str) -> None:
    with open(path, encoding="utf-8") as template:
        sam_template = as_packaged(yaml_parse(template.read()))
    # A deploy to us-east-1 (the session only names the Region: no credentials are read); the
    # template's own parameters keep their defaults, as a first deploy with no overrides.
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.Session(region_name="us-east-1"),
    )
    transformed = translator.translate(
        sam_template, parameter_values={}, get_managed_policy_map=dict
    )
    json.dump(transformed, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
