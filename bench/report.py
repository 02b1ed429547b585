"""The figures scripts/bench gathers, beside their targets.

    python3 bench/report.py criterion DIR SINCE OUT.json  # criterion medians (DIR: target/criterion) since SINCE
    python3 bench/report.py wrk LOG                    # the WRK_JSON line of a wrk run, as JSON
    python3 bench/report.py size LAMBDA_DIR OUT.json   # bootstrap and zip sizes per function
    python3 bench/report.py summary DIR                # the table; writes DIR/summary.json

A figure whose input is missing is "not measured" (with the log to read); a figure beside
its target is "ok" or "MISSED". Missing a target is not an error: the exit status says only
whether the report could be made.
"""

import datetime
import json
import os
import sys
import zipfile

FUNCTIONS = ["zoom-webhook", "flow-events", "url-validation", "notify"]
MIB = 1024 * 1024

COMMANDS = {
    "capacity": "cargo bench -p zcc-shared --features embedded --bench capacity",
    "hot_path": "cargo bench -p zcc-shared --bench hot_path",
    "cold_start": "cargo bench -p zcc-bench --bench cold_start",
    "peak_memory": "cargo bench -p zcc-bench --bench peak_memory",
    "challenge": "wrk -s bench/wrk/post.lua (zcc local vs bench/zoom-sample)",
    "events": "wrk -s bench/wrk/events.lua (zcc local --memory)",
    "size": "cargo lambda build --release --arm64 --output-format zip",
    "table_size": "cargo bench -p zcc-bench --bench table_size",
    "report_scale": "cargo bench -p zcc-bench --bench report_scale",
}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def criterion(root, since, out):
    """Medians (ns) of the criterion benches under `root` whose estimates were written since
    `since`."""
    found = {}
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        estimates = os.path.join(dirpath, "estimates.json")
        if os.path.getmtime(estimates) < since:
            continue
        bench = load(os.path.join(dirpath, "benchmark.json")) or {}
        median = (load(estimates) or {}).get("median", {}).get("point_estimate")
        name = bench.get("full_id") or os.path.relpath(os.path.dirname(dirpath), root)
        if median is not None:
            found[name] = median
    with open(out, "w") as f:
        json.dump({"median_ns": found}, f, indent=2)
        f.write("\n")


def wrk(log):
    """The JSON line scripts/bench's wrk scripts print when done."""
    with open(log) as f:
        for line in f:
            if line.startswith("WRK_JSON "):
                run = json.loads(line[len("WRK_JSON "):])
                run["rps"] = run["requests"] / (run["duration_us"] / 1e6)
                print(json.dumps(run))
                return
    sys.exit(f"report: no WRK_JSON line in {log}")


def size(lambda_dir, out):
    sizes = {}
    for name in FUNCTIONS:
        zipped = os.path.join(lambda_dir, name, "bootstrap.zip")
        if os.path.isfile(zipped):
            with zipfile.ZipFile(zipped) as z:
                unzipped = sum(i.file_size for i in z.infolist())
            sizes[name] = {"zip_bytes": os.path.getsize(zipped), "bootstrap_bytes": unzipped}
    with open(out, "w") as f:
        json.dump(sizes, f, indent=2)
        f.write("\n")


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, target, measured, status, command, value=None, unit=None):
        self.rows.append({
            "figure": figure, "target": target, "measured": measured, "status": status,
            "command": command, "value": value, "unit": unit,
        })

    def missing(self, figure, target, why, command):
        self.add(figure, target, why, "not measured", command)

    def print(self):
        heads = ("figure", "target", "measured", "status")
        cells = [(r["figure"], r["target"], r["measured"], r["status"]) for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
        widths[2] = min(widths[2], 60)
        line = lambda c: "  ".join(str(v).ljust(w) for v, w in zip(c, widths)).rstrip()
        print(line(heads))
        print(line(["-" * w for w in widths]))
        for c in cells:
            print(line(c))


def verdict(value, limit, at_most=True):
    ok = value <= limit if at_most else value >= limit
    return "ok" if ok else "MISSED"


def summary(out_dir):
    table = Table()
    logs = os.path.join(out_dir, "logs")
    see = lambda step: f"not measured (see {os.path.join(logs, step + '.log')})"

    # 1. DynamoDB write units, from the capacity bench.
    cap = load(os.path.join(out_dir, "capacity.json"))
    if cap is None:
        table.missing(
            "write units per event", "≤ 3",
            "not measured (capacity bench did not write target/bench/capacity.json)",
            COMMANDS["capacity"])
    else:
        wu = cap.get("write_units_per_distinct_event")
        table.add("write units per event", "≤ 3", f"{wu:.2f} WU", verdict(wu, 3),
                  COMMANDS["capacity"], wu, "WU")
        for key, label in [("read_units_per_distinct_event", "read units per event"),
                           ("duplicate_write_units", "write units of a duplicate")]:
            if cap.get(key) is not None:
                table.add("  " + label, "", f"{cap[key]:.2f}", "", COMMANDS["capacity"],
                          cap[key], "units")
        for event, units in sorted((cap.get("by_event") or {}).items()):
            table.add(f"  write units: {event}", "", f"{units:.2f} WU", "",
                      COMMANDS["capacity"], units, "WU")
        # A long chat: the write units of a message by its position, against the 10th's.
        chat = cap.get("long_chat_write_units") or {}
        sizes = cap.get("long_chat_state_bytes") or {}
        tenth = chat.get("10")
        for position, units in sorted(chat.items(), key=lambda kv: int(kv[0])):
            target = "≤ 10th + 1" if tenth is not None and position != "10" else ""
            ok = verdict(units, tenth + 1) if target else ""
            table.add(f"  long chat: message {int(position):,}", target,
                      f"{units:.1f} WU, item {sizes.get(position, 0):,} B", ok,
                      COMMANDS["capacity"], units, "WU")
        final = cap.get("long_chat_final_state_bytes")
        if final is not None:
            table.add("  long chat: state item at 2,000 messages", "≤ 16 KB", f"{final:,} B",
                      verdict(final, 16 * 1024), COMMANDS["capacity"], final, "B")

    # 2. CPU per event, from criterion's medians.
    hot = load(os.path.join(out_dir, "hot_path.json"))
    if hot is None or not hot.get("median_ns"):
        table.missing("CPU per webhook event", "≤ 10 µs", see("hot_path"), COMMANDS["hot_path"])
    else:
        medians = hot["median_ns"]
        whole = [k for k in medians if "whole event" in k.lower()]
        if whole:
            us = medians[whole[0]] / 1000
            table.add("CPU per webhook event (" + whole[0] + ")", "≤ 10 µs",
                      f"{us:.2f} µs", verdict(us, 10), COMMANDS["hot_path"], us, "µs")
        else:
            table.missing("CPU per webhook event", "≤ 10 µs",
                          "not measured (hot_path has no 'whole event' bench)",
                          COMMANDS["hot_path"])
        for name in sorted(k for k in medians if k not in whole):
            us = medians[name] / 1000
            table.add(f"  {name}", "", f"{us:.2f} µs", "", COMMANDS["hot_path"], us, "µs")

    # 3. Cold start per function.
    cold = load(os.path.join(out_dir, "cold_start.json"))
    for name in FUNCTIONS:
        figure = f"cold start: {name} (median)"
        if cold is None or name not in cold:
            table.missing(figure, "≤ 5 ms", see("cold_start"), COMMANDS["cold_start"])
            continue
        c = cold[name]
        table.add(figure, "≤ 5 ms", f"{c['median_ms']:.2f} ms (p90 {c['p90_ms']:.2f} ms)",
                  verdict(c["median_ms"], 5), COMMANDS["cold_start"], c["median_ms"], "ms")

    # 4. Throughput: the challenge against the Node sample, and the event path.
    runs = {k: load(os.path.join(out_dir, f"wrk-{k}.json"))
            for k in ("challenge-node", "challenge-zoom-webhook", "challenge-url-validation",
                      "forged", "events")}
    node, ours = runs["challenge-node"], runs["challenge-zoom-webhook"]
    usable = lambda r: r is not None and r["non_2xx"] == 0 and r["socket_errors"] == 0
    if usable(node) and usable(ours):
        ratio = ours["rps"] / node["rps"]
        table.add("URL challenge: zcc / Zoom's Node sample (req/s)", "≥ 20×", f"{ratio:.1f}×",
                  verdict(ratio, 20, at_most=False), COMMANDS["challenge"], ratio, "x")
    else:
        bad = [k for k in ("challenge-node", "challenge-zoom-webhook") if not usable(runs[k])]
        table.missing("URL challenge: zcc / Zoom's Node sample (req/s)", "≥ 20×",
                      f"not measured ({', '.join(bad)} failed or answered errors; see "
                      f"{os.path.join(logs, 'throughput.log')})", COMMANDS["challenge"])
    for key, label in [("challenge-zoom-webhook", "zcc local /lambda-url/zoom-webhook/"),
                       ("challenge-url-validation", "zcc local /lambda-url/url-validation/"),
                       ("challenge-node", "Node + Express sample /webhook")]:
        r = runs[key]
        if r is not None:
            errors = "" if usable(r) else f", {r['non_2xx']} errors"
            table.add(f"  {label}", "",
                      f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms{errors}",
                      "", COMMANDS["challenge"], r["rps"], "req/s")
    forged = runs["forged"]
    if forged is not None:
        # Every forged request must be refused (non-2xx); any other answer is a failure.
        leaked = forged["requests"] - forged["non_2xx"]
        table.add("  forged webhooks refused (zcc local)", "",
                  f"{forged['rps']:,.0f} req/s, p50 {forged['p50_ms']:.2f} ms, p99 {forged['p99_ms']:.2f} ms"
                  + (f", {leaked} NOT refused" if leaked else ""),
                  "" if not leaked else "FAILED", COMMANDS["challenge"], forged["rps"], "req/s")
    ev = runs["events"]
    if ev is None:
        table.missing("webhook events through zcc local", "", see("throughput"), COMMANDS["events"])
    else:
        notes = []
        if ev["non_2xx"] or ev["socket_errors"]:
            notes.append(f"{ev['non_2xx'] + ev['socket_errors']} errors")
        if ev.get("repeats"):
            notes.append(f"{ev['repeats']} repeats")
        table.add("webhook events through zcc local", "",
                  f"{ev['rps']:,.0f} events/s, p50 {ev['p50_ms']:.2f} ms, p99 {ev['p99_ms']:.2f} ms"
                  + (f" ({', '.join(notes)})" if notes else ""),
                  "", COMMANDS["events"], ev["rps"], "events/s")

    # 5. Size and memory.
    sizes = load(os.path.join(out_dir, "size.json")) or {}
    for name in FUNCTIONS:
        figure = f"zip: {name} (arm64)"
        if name not in sizes:
            table.missing(figure, "≤ 4 MiB", see("size"), COMMANDS["size"])
            continue
        s = sizes[name]
        mib = s["zip_bytes"] / MIB
        unzipped = f" (bootstrap {s['bootstrap_bytes'] / MIB:.1f} MiB)" if s["bootstrap_bytes"] else ""
        table.add(figure, "≤ 4 MiB", f"{mib:.2f} MiB{unzipped}", verdict(mib, 4),
                  COMMANDS["size"], mib, "MiB")
    memory = load(os.path.join(out_dir, "peak_memory.json"))
    for name in FUNCTIONS:
        figure = f"peak RSS: {name}"
        if memory is None or name not in memory:
            table.missing(figure, "≤ 32 MiB", see("peak_memory"), COMMANDS["peak_memory"])
            continue
        m = memory[name]
        failed = f", {m['failures']} failed" if m["failures"] else ""
        table.add(figure, "≤ 32 MiB",
                  f"{m['peak_rss_mib']:.1f} MiB after {m['events']:,} events{failed}",
                  verdict(m["peak_rss_mib"], 32), COMMANDS["peak_memory"], m["peak_rss_mib"], "MiB")

    # 6. The embedded store as its table grows: the last slice within 25 % of the first.
    sizes_run = load(os.path.join(out_dir, "table_size.json"))
    for mode, label in [("file", "file store, notifier on"), ("memory", "--memory")]:
        figure = f"events/s at 100,000 engagements vs the first 1,000 ({label})"
        run = (sizes_run or {}).get(mode)
        if run is None:
            table.missing(figure, "≥ 75 %", see("table_size"), COMMANDS["table_size"])
            continue
        ratio = run["last_over_first"] * 100
        last = run["slices"][-1]["engagements"] if run["slices"] else run["engagements"]
        failed = f", {run['failures']} not 200" if run["failures"] else ""
        if last != 100_000:
            figure = figure.replace("100,000", f"{run['engagements']:,}")
        table.add(figure, "≥ 75 %", f"{ratio:.0f} %{failed}", verdict(ratio, 75, at_most=False),
                  COMMANDS["table_size"], ratio, "%")
        for s in run["slices"]:
            table.add(f"  {mode}: events/s over the 1,000 engagements to {s['engagements']:,}", "",
                      f"{s['events_per_s']:,.0f} events/s", "", COMMANDS["table_size"],
                      s["events_per_s"], "events/s")

    # 7. zcc report at a month's scale, and the loader that makes the day.
    scale = load(os.path.join(out_dir, "report_scale.json")) or {}
    for n, target, limit in [("100000", "≤ 5 s", 5.0), ("10000", "", None)]:
        figure = f"zcc report, {int(n):,} engagements of a day"
        if n not in scale:
            table.missing(figure, target, see("report_scale"), COMMANDS["report_scale"])
            continue
        r = scale[n]
        table.add(figure, target, f"{r['report_s']:.2f} s (median)",
                  verdict(r["report_s"], limit) if limit else "", COMMANDS["report_scale"],
                  r["report_s"], "s")
    if "100000" in scale:
        minutes = scale["100000"]["load_s"] / 60
        table.add("  report_scale loader, 100,000 engagements", "minutes (≤ 10 min)",
                  f"{minutes:.1f} min", verdict(minutes, 10), COMMANDS["report_scale"],
                  minutes, "min")

    table.print()
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": table.rows,
        "inputs": {
            "capacity": cap, "hot_path": hot, "cold_start": cold, "wrk": runs,
            "size": sizes or None, "peak_memory": memory, "table_size": sizes_run,
            "report_scale": scale or None,
        },
    }
    path = os.path.join(out_dir, "summary.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    missed = sum(r["status"] == "MISSED" for r in table.rows)
    unmeasured = sum(r["status"] == "not measured" for r in table.rows)
    print(f"\n{missed} missed, {unmeasured} not measured; written to {path}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "criterion":
        criterion(args[0], float(args[1]), args[2])
    elif command == "wrk":
        wrk(args[0])
    elif command == "size":
        size(args[0], args[1])
    elif command == "summary":
        summary(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
