"""Validates OCSF Compliance Finding events (a JSON array, the output of
`apigw-tracing scan --format ocsf`) with py-ocsf-models, the OCSF models
Prowler maintains, offline. Strict on two counts pydantic is not by
default: every field an event carries must be one the model knows (none
silently dropped), and the class must be Compliance Finding (2003).

Usage: python validate.py EVENTS.json   (exit 0: all valid; 1: not)
"""
import json
import sys

from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding


def paths(value, prefix=""):
    """Every leaf path of a JSON value (list items share their list's path)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list):
        for v in value:
            yield from paths(v, prefix)
    else:
        yield prefix


def main(path):
    events = json.load(open(path))
    if not isinstance(events, list) or not events:
        print(f"{path}: expected a non-empty JSON array of events")
        return 1
    problems = []
    for i, event in enumerate(events):
        try:
            model = ComplianceFinding.model_validate(event)
        except Exception as e:  # pydantic.ValidationError, with every field at fault
            problems.append(f"event {i}: {e}")
            continue
        kept = set(paths(model.model_dump(mode="json", exclude_none=True)))
        dropped = sorted(set(paths(event)) - kept)
        if dropped:
            problems.append(f"event {i}: fields the OCSF model does not know: {dropped}")
        if event.get("class_uid") != 2003:
            problems.append(f"event {i}: class_uid {event.get('class_uid')!r} is not 2003")
    for p in problems:
        print(p)
    print(f"OCSF: {len(events)} event(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
