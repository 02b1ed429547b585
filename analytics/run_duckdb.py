#!/usr/bin/env python3
"""Runs the Athena named queries of template.yaml on your own machine, with DuckDB.

    python analytics/run_duckdb.py DIR template.yaml [--from DAY] [--to DAY] [--sla-seconds N]
                                                     [--query NAME]...
    python analytics/run_duckdb.py --check template.yaml

DIR holds report rows as Firehose writes them to S3 and `zcc export` writes them locally:
newline-delimited JSON under DIR/day=YYYY-MM-DD/ (files *.json, or *.json.gz as Firehose
delivers them: `aws s3 sync s3://BUCKET/engagements/ DIR` gives the same layout).

Before running anything it checks that every AWS::Athena::NamedQuery's QueryString in the
template is, character for character, the file analytics/<Name>.sql, and that there is one
named query per file: the SQL of the reports exists once. It then makes the view
`engagements` over DIR with the columns and types of the template's Glue table (so that
DuckDB reads the rows with the types Athena reads them with), runs each query with the
parameters ('first day', 'last day', threshold in ms), and prints one JSON object:
{"by_queue": [{"group": ..., "name": ..., "offered": ..., ...}, ...], ..., "total": [...]}.

--from and --to default to the first and last day found under DIR; --sla-seconds to 20 (as
`zcc report`). Needs duckdb and cfn-lint: `scripts/python-tools duckdb` installs both into
.venv (run it as .venv/bin/python analytics/run_duckdb.py ...).
"""

import argparse
import difflib
import glob
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Figures' JSON fields (shared/domain/src/report.rs), in order, with the SQL type each query
# returns them as (the same on Athena: counts and milliseconds BIGINT, rates DOUBLE).
FIGURES = [
    ("group", "VARCHAR"), ("name", "VARCHAR"), ("offered", "BIGINT"), ("answered", "BIGINT"),
    ("abandoned", "BIGINT"), ("abandon_rate", "DOUBLE"), ("answered_within_sla", "BIGINT"),
    ("service_level", "DOUBLE"), ("average_speed_of_answer_ms", "BIGINT"),
    ("average_handle_ms", "BIGINT"), ("p90_handle_ms", "BIGINT"), ("average_talk_ms", "BIGINT"),
    ("average_hold_ms", "BIGINT"), ("average_wrap_up_ms", "BIGINT"), ("transfers", "BIGINT"),
    ("holds", "BIGINT"),
]

# Glue (Hive) column types as DuckDB names them.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
}

TABLE = "engagements"


def fail(message):
    print(f"run_duckdb: {message}", file=sys.stderr)
    sys.exit(1)


def load_template(path):
    try:
        from cfnlint.decode import decode
    except ImportError:
        fail("cfn-lint is not installed: run scripts/python-tools duckdb, then use .venv/bin/python")
    template, problems = decode(path)
    if problems:
        fail(f"cannot read {path}: {problems}")
    return template


def named_queries(template):
    """{Name: (logical id, QueryString, Database)} of the template's named queries."""
    found = {}
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Athena::NamedQuery":
            continue
        props = resource.get("Properties", {})
        name = str(props.get("Name"))
        if name in found:
            fail(f"two named queries are called {name}: {found[name][0]} and {logical}")
        found[name] = (logical, str(props.get("QueryString", "")), props.get("Database"))
    return found


def glue_table(template):
    """(logical id, [(column, glue type)], [(partition key, glue type)]) of the table."""
    tables = [
        (logical, r["Properties"]["TableInput"])
        for logical, r in template.get("Resources", {}).items()
        if r.get("Type") == "AWS::Glue::Table"
        and r.get("Properties", {}).get("TableInput", {}).get("Name") == TABLE
    ]
    if len(tables) != 1:
        fail(f"expected one AWS::Glue::Table named {TABLE} in the template, found {len(tables)}")
    logical, table = tables[0]
    columns = [(str(c["Name"]), str(c["Type"])) for c in table["StorageDescriptor"]["Columns"]]
    partitions = [(str(c["Name"]), str(c["Type"])) for c in table.get("PartitionKeys", [])]
    for name, glue_type in columns + partitions:
        if glue_type not in DUCKDB_TYPES:
            fail(f"column {name}: Glue type {glue_type} has no DuckDB equivalent here")
    return logical, columns, partitions


def check_queries(template):
    """The named queries, each the text of its analytics/*.sql file. Returns {name: sql}."""
    queries = named_queries(template)
    files = {
        os.path.splitext(os.path.basename(p))[0]: p
        for p in sorted(glob.glob(os.path.join(HERE, "*.sql")))
    }
    problems = []
    for name in sorted(set(files) - set(queries)):
        problems.append(f"analytics/{name}.sql has no AWS::Athena::NamedQuery named {name}")
    for name in sorted(set(queries) - set(files)):
        problems.append(f"named query {name} ({queries[name][0]}) has no file analytics/{name}.sql")
    database = None
    for logical, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Glue::Database":
            database = logical
    for name in sorted(set(files) & set(queries)):
        logical, text, db = queries[name]
        with open(files[name], encoding="utf-8") as f:
            want = f.read()
        if text != want:
            diff = "".join(
                difflib.unified_diff(
                    want.splitlines(True), text.splitlines(True),
                    f"analytics/{name}.sql", f"template.yaml {logical}.QueryString",
                )
            )
            problems.append(f"{logical}.QueryString is not analytics/{name}.sql:\n{diff}")
        if db != {"Ref": database}:
            problems.append(f"{logical}.Database is {db!r}, not !Ref {database}")
    if problems:
        fail("the template's named queries and analytics/*.sql disagree:\n  " + "\n  ".join(problems))
    return {name: queries[name][1] for name in sorted(queries)}


def data_files(directory):
    files = sorted(
        glob.glob(os.path.join(directory, "day=*", "*.json"))
        + glob.glob(os.path.join(directory, "day=*", "*.json.gz"))
    )
    if not files:
        fail(f"no rows under {directory}: expected day=YYYY-MM-DD/*.json (zcc export) or *.json.gz (Firehose)")
    return files


def first_row(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                return json.loads(line)
    return None


def check_fields(files, columns, partitions):
    """Fails when a row has a field the Glue table lacks (Athena would not see it)."""
    known = {name for name, _ in columns} | {name for name, _ in partitions}
    missing_seen = set()
    for path in files:
        row = first_row(path)
        if row is None:
            continue
        extra = sorted(set(row) - known)
        if extra:
            fail(f"{path}: the rows have fields the Glue table {TABLE} lacks: {', '.join(extra)} "
                 "(add them to the table's Columns in template.yaml)")
        missing_seen |= {name for name, _ in columns} - set(row)
    if missing_seen:
        print(f"run_duckdb: note: the rows have no {', '.join(sorted(missing_seen))} "
              "(read as NULL)", file=sys.stderr)


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    parser = argparse.ArgumentParser(
        usage="%(prog)s DIR TEMPLATE [options]\n       %(prog)s --check TEMPLATE",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="DIR (the rows) and TEMPLATE (template.yaml); with --check, TEMPLATE")
    parser.add_argument("--check", action="store_true",
                        help="only check that the named queries are analytics/*.sql")
    parser.add_argument("--from", dest="first", metavar="DAY", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", metavar="DAY", help="last day, YYYY-MM-DD")
    parser.add_argument("--sla-seconds", type=int, default=20,
                        help="service-level threshold in seconds (default 20)")
    parser.add_argument("--query", action="append", metavar="NAME",
                        help="run only this named query (repeatable)")
    args = parser.parse_args()

    if args.check:
        if len(args.paths) != 1:
            parser.error("--check takes the template alone")
        queries = check_queries(load_template(args.paths[0]))
        print(f"run_duckdb: {len(queries)} named queries match analytics/*.sql", file=sys.stderr)
        return
    if len(args.paths) != 2:
        parser.error("give DIR and TEMPLATE")
    directory, template_path = args.paths

    template = load_template(template_path)
    queries = check_queries(template)
    _, columns, partitions = glue_table(template)
    chosen = args.query or list(queries)
    for name in chosen:
        if name not in queries:
            fail(f"no named query {name}: there are {', '.join(queries)}")

    try:
        import duckdb
    except ImportError:
        fail("duckdb is not installed: run scripts/python-tools duckdb, then use .venv/bin/python")

    files = data_files(directory)
    check_fields(files, columns, partitions)
    days = sorted({os.path.basename(os.path.dirname(p))[len("day="):] for p in files})
    first = args.first or days[0]
    last = args.last or days[-1]

    con = duckdb.connect()
    column_types = ", ".join(f"{quote(n)}: {quote(DUCKDB_TYPES[t])}" for n, t in columns)
    hive_types = ", ".join(f"{quote(n)}: {quote(DUCKDB_TYPES[t])}" for n, t in partitions)
    con.execute(
        f"CREATE VIEW {TABLE} AS SELECT * FROM read_json("
        f"[{', '.join(quote(p) for p in files)}], "
        "format = 'newline_delimited', "
        "hive_partitioning = true, "
        f"hive_types = {{{hive_types}}}, "
        f"columns = {{{column_types}}})"
    )

    out = {}
    for name in chosen:
        cursor = con.execute(queries[name], [first, last, args.sla_seconds * 1000])
        returned = [(d[0], str(d[1])) for d in cursor.description]
        if returned != FIGURES:
            fail(f"{name} returns the columns {returned}, not Figures' fields {FIGURES}")
        names = [column for column, _ in returned]
        out[name] = [dict(zip(names, row)) for row in cursor.fetchall()]
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
