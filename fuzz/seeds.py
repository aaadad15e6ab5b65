"""Writes each fuzz target's seeds from the repository's real data (tests/fixtures/, events/,
cairn.yaml) into OUT/TARGET/, in the input layout the target's comment describes.

    python3 fuzz/seeds.py OUT
"""

import gzip
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EVENTS = ROOT / "events"


def json_files():
    for path in sorted(FIXTURES.rglob("*.json")):
        yield path, path.read_bytes()


def records():
    """Every record of every fixture batch, as its JSON text."""
    for _, data in json_files():
        try:
            document = json.loads(data)
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("Records"), list):
            for record in document["Records"]:
                if isinstance(record, dict):
                    yield record


def write(out, target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / name).write_bytes(data)


def main(out):
    out = pathlib.Path(out)
    bodies = [(p.name, p.read_bytes()) for p in sorted(EVENTS.glob("ingest-*.json"))]
    bodies.append(("function-url-ingest.json", (EVENTS / "function-url-ingest.json").read_bytes()))
    for path, data in json_files():
        bodies.append((path.name, data))
    for name, data in bodies:
        write(out, "ingest_body", name, data)
        write(out, "record", name, data)

    all_records = list(records())
    for index, record in enumerate(all_records):
        text = json.dumps(record, separators=(",", ":"))
        staged = {
            "dedupKey": record.get("eventID")
            or "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
            "eventTime": record.get("eventTime", ""),
            "routes": [["main", "123456789012", record.get("awsRegion", "us-east-1")]],
            "history": ["123456789012", record.get("awsRegion", "us-east-1")],
            "record": record,
        }
        # As ingest stages it now, the record last with its length before it; and as an earlier
        # ingest did, without the length.
        framed = {key: value for key, value in staged.items() if key != "record"}
        framed["recordBytes"] = len(text.encode())
        framed["record"] = record
        line = json.dumps(framed, separators=(",", ":")) + "\n"
        write(out, "staging_object", f"staged-{index}.jsonl", line)
        earlier = json.dumps(staged, separators=(",", ":")) + "\n"
        write(out, "staging_object", f"staged-earlier-{index}.jsonl", earlier)
        # The log file target: "0" (even: the target gzips the rest) and a one-record batch.
        write(out, "log_file", f"records-{index}.json", "0" + json.dumps({"Records": [record]}))

    examples = json.loads((FIXTURES / "awsdocs_user_guide_examples" / "awsdocs_digest_file_examples.json").read_text())
    for index, example in enumerate(examples):
        digest = json.dumps(example["digest"])
        write(out, "digest_file", f"digest-{index}", "00ff\n0" + digest)
        write(out, "digest_file", f"digest-raw-{index}", b"00ff\n1" + gzip.compress(digest.encode()))

    write(out, "config", "cairn.yaml", (ROOT / "cairn.yaml").read_bytes())

    for name in ["s3-object-created.json", "alert-object-created.json", "notify-sqs.json", "schedule.json"]:
        write(out, "trigger", name, (EVENTS / name).read_bytes())

    patterns = []
    for line in (ROOT / "cairn.yaml").read_text().splitlines():
        if line.strip().startswith("filterPattern:"):
            patterns.append(line.split(":", 1)[1].strip().strip("'"))
    for index, pattern in enumerate(patterns):
        message = json.dumps(all_records[index % len(all_records)], separators=(",", ":"))
        write(out, "filter_pattern", f"pattern-{index}", pattern + "\n" + message)


if __name__ == "__main__":
    main(sys.argv[1])
