#!/usr/bin/env bash
# `sam build` and `sam package` as a first deploy runs them, timed, then the packaged artifacts
# checked: the four functions each a zip of one arm64 `bootstrap`, and the config layer holding
# the real cairn.yaml (deploy/config-layer/cairn.yaml is a link to it), all in the S3 bucket the
# packaged template names. The deploy itself cannot run here (LocalStack's Lambda needs a
# container runtime), so this is as far as this machine goes; the test command does not run it
# (the release build takes several minutes), scripts/test.sh runs sam validate and the
# translator instead.
#
#   scripts/tools.sh install && scripts/localstack.sh start
#   AWS_ENDPOINT_URL=http://127.0.0.1:4566 scripts/sam-package.sh
#
# Needs .venv-tools/ (sam, cargo-lambda, zig, aws) and an S3 endpoint: AWS_ENDPOINT_URL (any
# S3, LocalStack's by default above) with credentials from the usual environment (LocalStack's
# test/test when none are set). Overridable: SAM_PACKAGE_BUCKET (default cairn-sam-artifacts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL to an S3 endpoint, e.g. LocalStack at http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export PATH="$PWD/.venv-tools/bin:$PATH" SAM_CLI_TELEMETRY=0
bucket=${SAM_PACKAGE_BUCKET:-cairn-sam-artifacts}
out=target/sam-package
# A target folder of its own: the release profile's whole-program LTO shares nothing with the
# dev builds, and a build from scratch is what a fresh clone measures.
export CARGO_TARGET_DIR=$PWD/$out/cargo

say() { printf 'sam-package: %s\n' "$*"; }
die() { printf 'sam-package: error: %s\n' "$*" >&2; exit 1; }

rm -rf "$out/build" "$out/artifacts" "$out/packaged.yaml"
mkdir -p "$out"

started=$SECONDS
sam build --template-file template.yaml --build-dir "$out/build"
build_seconds=$((SECONDS - started))

aws s3api head-bucket --bucket "$bucket" 2>/dev/null || aws s3 mb "s3://$bucket" >/dev/null
started=$SECONDS
sam package --template-file "$out/build/template.yaml" --s3-bucket "$bucket" \
  --output-template-file "$out/packaged.yaml" --region "$AWS_REGION"
package_seconds=$((SECONDS - started))

# Every CodeUri and ContentUri of the packaged template, as "logical-id s3://bucket/key".
.venv-tools/bin/python - "$out/packaged.yaml" >"$out/uris.txt" <<'PY'
import sys
from samtranslator.yaml_helper import yaml_parse
template = yaml_parse(open(sys.argv[1], encoding="utf-8").read())
for name, resource in sorted(template["Resources"].items()):
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if key in properties:
            print(name, properties[key])
PY
mkdir -p "$out/artifacts"
functions=0
while read -r name uri; do
  [[ $uri == "s3://$bucket/"* ]] || die "$name: $uri is not in s3://$bucket"
  zip=$out/artifacts/$name.zip
  aws s3 cp --quiet "$uri" "$zip"
  entries=$(.venv-tools/bin/python -c 'import sys, zipfile; print(" ".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$zip")
  if [[ $name == *Function ]]; then
    [[ $entries == bootstrap ]] || die "$name: the zip holds '$entries', not bootstrap alone"
    unzip -o -q "$zip" bootstrap -d "$out/artifacts/$name"
    kind=$(file -b "$out/artifacts/$name/bootstrap")
    [[ $kind == *"ARM aarch64"* ]] || die "$name: bootstrap is $kind"
    say "$name: $uri, bootstrap $(stat -c %s "$out/artifacts/$name/bootstrap") bytes, ${kind%%,*}, aarch64"
    functions=$((functions + 1))
  else
    [[ $entries == cairn.yaml ]] || die "$name: the layer holds '$entries', not cairn.yaml"
    unzip -o -q "$zip" cairn.yaml -d "$out/artifacts/$name"
    cmp -s "$out/artifacts/$name/cairn.yaml" cairn.yaml || die "$name: its cairn.yaml is not the repository's"
    say "$name: $uri, cairn.yaml as in the repository ($(stat -c %s cairn.yaml) bytes)"
  fi
done <"$out/uris.txt"
((functions == 4)) || die "$functions functions packaged, not 4"
say "sam build ${build_seconds}s, sam package ${package_seconds}s; packaged template: $out/packaged.yaml"
