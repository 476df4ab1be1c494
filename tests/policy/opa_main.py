"""Evaluates a Rego policy's `data.main` with OPA's Go engine (v1.20, the
library Conftest embeds), as `conftest test` does, for each input given.

Usage: python3 opa_main.py POLICY.rego < inputs.json
inputs.json: a JSON list of inputs; prints a JSON list, one object per
input, with the policy's `deny`, `warn` and `exempted` sets (each a sorted
list; a set the policy leaves undefined is empty).

The engine comes from PyPI's opa-golib-python-bindings (a ctypes wrapper
over OPA's Go library), unpacked by `make it` into .opa/; APIGW_TRACING_OPA
names another directory holding `opa_bindings`.
"""

import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("APIGW_TRACING_OPA", os.path.join(here, "..", "..", ".opa")))

from opa_bindings import OpaEngine  # noqa: E402
from opa_bindings.engine import OpaUndefinedError  # noqa: E402


def main():
    policy = sys.argv[1]
    inputs = json.load(sys.stdin)
    out = []
    with OpaEngine() as engine:
        engine.add_policy(os.path.basename(policy), open(policy).read())
        for doc in inputs:
            sets = {}
            for rule in ("deny", "warn", "exempted"):
                try:
                    value = engine.eval_document(f"main.{rule}", doc)
                except OpaUndefinedError:
                    value = []
                sets[rule] = sorted(value)
            out.append(sets)
    json.dump(out, sys.stdout)


main()
