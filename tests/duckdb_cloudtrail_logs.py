"""Athena's stand-in for tests/duckdb_reading.rs: the Glue table template.yaml creates
(cloudtrail_logs), rebuilt in DuckDB over the same delivered .json.gz log files.

Reads a JSON request on stdin:
  {"glob": files as the table's storage.location.template finds them, a path glob,
   "template": the template itself, its ${key} placeholders in place, over the same paths,
   "partition_keys": the table's partition keys, read from each file's path by the template,
   "columns": [[name, Hive type], ...] as the table declares them,
   "queries": {"name": "SQL over cloudtrail_logs", ...}}
and prints {"name": [row, ...], ...} as JSON, each row a list of its values.

CloudTrail's SerDe matches a record's keys to the columns case-insensitively (eventversion
reads eventVersion) and gives a string column holding an object that object's JSON text.
DuckDB's read_json matches keys exactly, so the keys' spelling is looked up first and each
column is read under it and renamed to the table's name.
"""

import json
import re
import sys

import duckdb


def parse_hive_type(text):
    """'struct<a:string,b:array<string>>' -> ('struct', [('a', 'string'), ('b', ('array', 'string'))])."""
    position = 0

    def name():
        nonlocal position
        start = position
        while position < len(text) and text[position] not in "<>,:":
            position += 1
        return text[start:position].strip()

    def expect(char):
        nonlocal position
        assert text[position] == char, (text, position, char)
        position += 1

    def parse():
        nonlocal position
        kind = name().lower()
        if kind == "struct":
            expect("<")
            fields = []
            while True:
                field = name()
                expect(":")
                fields.append((field, parse()))
                if text[position] == ">":
                    break
                expect(",")
            expect(">")
            return ("struct", fields)
        if kind in ("array", "map"):
            expect("<")
            items = [parse()]
            while text[position] == ",":
                expect(",")
                items.append(parse())
            expect(">")
            return (kind, items)
        assert kind == "string", kind
        return "string"

    parsed = parse()
    assert position == len(text), text
    return parsed


def key_spellings(records):
    """Every key of the records' objects, by its lower-case spelling and the path of objects
    above it (arrays see through), as the records spell it."""
    spellings = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                spellings.setdefault(path + (key.lower(),), key)
                walk(inner, path + (key.lower(),))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)

    for record in records:
        walk(json.loads(record), ())
    return spellings


def quoted(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def duckdb_type(hive, path, spellings):
    """The DuckDB type to read a value of this Hive type under the records' spelling."""
    if hive == "string":
        return "VARCHAR"
    kind, inner = hive
    if kind == "struct":
        fields = ", ".join(
            quoted(spellings.get(path + (field,), field)) + " " + duckdb_type(t, path + (field,), spellings)
            for field, t in inner
        )
        return f"STRUCT({fields})"
    if kind == "array":
        return duckdb_type(inner[0], path, spellings) + "[]"
    return "MAP(VARCHAR, VARCHAR)"


def renamed(hive, source, path, spellings):
    """An expression giving `source` (read under the records' spelling) the table's names."""
    if hive == "string":
        return source
    kind, inner = hive
    if kind == "struct":
        fields = ", ".join(
            f"{field} := "
            + renamed(t, f"{source}.{quoted(spellings.get(path + (field,), field))}", path + (field,), spellings)
            for field, t in inner
        )
        return f"CASE WHEN {source} IS NULL THEN NULL ELSE struct_pack({fields}) END"
    if kind == "array":
        element = renamed(inner[0], "element", path, spellings)
        return f"list_transform({source}, lambda element: {element})"
    return source


def main():
    request = json.load(sys.stdin)
    connection = duckdb.connect()
    files = f"read_json('{request['glob']}', format = 'auto', filename = true, columns = "
    raw = connection.sql(
        f"SELECT unnest(Records)::VARCHAR FROM {files}{{'Records': 'JSON[]'}})"
    ).fetchall()
    spellings = key_spellings(row[0] for row in raw)

    columns = [(name, parse_hive_type(hive)) for name, hive in request["columns"]]
    record_type = ", ".join(
        quoted(spellings.get((name,), name)) + " " + duckdb_type(hive, (name,), spellings)
        for name, hive in columns
    )
    selected = [
        renamed(hive, f"record.{quoted(spellings.get((name,), name))}", (name,), spellings) + f" AS {name}"
        for name, hive in columns
    ]
    # The partition keys, from each file's path as partition projection places them.
    pattern = "^" + re.escape(request["template"]) + "/[^/]+$"
    keys = request["partition_keys"]
    for key in keys:
        pattern = pattern.replace(re.escape("${" + key + "}"), "(.+?)")
    pattern = pattern.replace("'", "''")
    for group, key in enumerate(keys, start=1):
        selected.append(f"regexp_extract(filename, '{pattern}', {group}) AS {quoted(key)}")
    connection.sql(
        "CREATE VIEW cloudtrail_logs AS SELECT "
        + ", ".join(selected)
        + f" FROM (SELECT unnest(Records) AS record, filename FROM {files}{{'Records': 'STRUCT({record_type})[]'}}))"
    )
    answers = {
        name: [list(row) for row in connection.sql(query).fetchall()]
        for name, query in request["queries"].items()
    }
    json.dump(answers, sys.stdout, default=str)


if __name__ == "__main__":
    main()
