//! `zcc report --html`'s page, rendered by a real headless Chromium: the reports are built
//! from hand-made rows (no stack), the page written to a file, its DOM dumped and a
//! screenshot taken (`target/report-page.png`, to look at).
//!
//! Chromium is required: install it with `apt-get install chromium` (or point `$CHROMIUM` at
//! a binary). `ZCC_SKIP_BROWSER=1` skips the browser and checks only the written page.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use zcc_cli::commands::report::{Report, page, report};
use zcc_domain::report::{GroupBy, Row};
use zcc_domain::time_range::TimeRange;
use zcc_domain::timestamp::Timestamp;

const SLA_SECONDS: u32 = 20;
const EVIL: &str = "<script>&\"";

/// Queue id, name, mean talk seconds.
const QUEUES: [(&str, &str, i64); 5] = [
    ("q-billing", "Billing", 240),
    ("q-support", "Technical support", 420),
    ("q-sales", "Sales", 180),
    ("q-retention", "Retention & Loyalty", 330),
    ("q-evil", EVIL, 150),
];

/// Engagements offered per hour 00..23: a working day with a morning and an afternoon peak.
const PER_HOUR: [u64; 24] = [
    0, 0, 0, 0, 0, 0, 0, 6, 22, 38, 44, 36, 24, 28, 40, 34, 26, 18, 9, 4, 0, 0, 0, 0,
];

/// A small deterministic generator (an LCG): the same day every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn day_start() -> Timestamp {
    Timestamp::parse("2026-12-01T00:00:00.000Z").unwrap()
}

fn range() -> TimeRange {
    TimeRange {
        from: day_start(),
        to: Timestamp::parse("2026-12-01T23:59:59.999Z").unwrap(),
    }
}

/// A day of ended engagements: busier hours wait longer and abandon more.
fn rows() -> Vec<Row> {
    let mut dice = Dice(7);
    let mut rows = Vec::new();
    for (hour, offered) in PER_HOUR.into_iter().enumerate() {
        for n in 0..offered {
            let (queue_id, queue_name, talk_s) = QUEUES[dice.next(QUEUES.len() as u64) as usize];
            let started_ms = hour as i64 * 3_600_000 + dice.next(3_600_000) as i64;
            let busy = offered as i64;
            let wait_ms = (dice.next(15_000) as i64) + busy * dice.next(900) as i64;
            let abandoned = dice.next(100) < busy as u64 / 4;
            let talk = (talk_s / 2 + dice.next(talk_s as u64) as i64) * 1000;
            let hold = if dice.next(4) == 0 {
                dice.next(90_000) as i64
            } else {
                0
            };
            let wrap = (15 + dice.next(60) as i64) * 1000;
            let started = day_start().saturating_add_millis(started_ms);
            rows.push(Row {
                engagement_id: format!("e-{hour:02}-{n}"),
                day: "2026-12-01".into(),
                hour: format!("{hour:02}"),
                first_event_at: Some(started),
                version: 1,
                ended: true,
                channel: Some("voice".into()),
                queue_id: Some(queue_id.into()),
                queue_name: Some(queue_name.into()),
                agent_user_id: (!abandoned).then(|| format!("agent-{}", dice.next(6))),
                started_at: Some(started),
                answered_at: (!abandoned).then(|| started.saturating_add_millis(wait_ms)),
                abandoned: Some(abandoned),
                time_to_answer_ms: (!abandoned).then_some(wait_ms),
                queue_wait_ms: Some(wait_ms),
                talk_ms: (!abandoned).then_some(talk),
                total_hold_ms: if abandoned { 0 } else { hold },
                hold_count: u32::from(!abandoned && hold > 0),
                wrap_up_ms: (!abandoned).then_some(wrap),
                handle_ms: (!abandoned).then_some(talk + hold + wrap),
                transfer_count: u32::from(dice.next(12) == 0),
                ..Row::default()
            });
        }
    }
    rows
}

struct Reports {
    found: Report,
    by_hour: Report,
    by_queue: Report,
}

fn reports(rows: &[Row]) -> Reports {
    Reports {
        found: report(rows, range(), GroupBy::Queue, SLA_SECONDS),
        by_hour: report(rows, range(), GroupBy::Hour, SLA_SECONDS),
        by_queue: report(rows, range(), GroupBy::Queue, SLA_SECONDS),
    }
}

/// The workspace's target directory (the parent of this test's scratch directory).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

fn write_page(name: &str, reports: &Reports) -> PathBuf {
    let html = page::render(&reports.found, &reports.by_hour, &reports.by_queue);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    path
}

/// The Chromium to run, or `None` when `ZCC_SKIP_BROWSER=1`; fails when none is installed.
fn chromium() -> Option<PathBuf> {
    if std::env::var("ZCC_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("ZCC_SKIP_BROWSER=1: the page is not rendered in a browser");
        return None;
    }
    if let Some(named) = std::env::var_os("CHROMIUM") {
        let named = PathBuf::from(named);
        if named.is_file() {
            return Some(named);
        }
        let found = on_path(&named.to_string_lossy());
        assert!(
            found.is_some(),
            "$CHROMIUM is {}: neither a file nor a command on PATH",
            named.display()
        );
        return found;
    }
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(on_path);
    assert!(
        found.is_some(),
        "headless Chromium is needed to check the report page: install it \
         (`apt-get install chromium`), point $CHROMIUM at a binary, \
         or set ZCC_SKIP_BROWSER=1 to skip this check"
    );
    found
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `page` with `args`; returns its stdout. Fails after 120 s.
fn run_chromium(chromium: &Path, page: &Path, args: &[&str]) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let scratch = tempdir(&format!(
        "chromium-{}",
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not finish in 120 s", chromium.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium {args:?} failed ({status}): {stderr}"
    );
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    stdout
}

/// A fresh directory under this test's scratch directory.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("page-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The serialised `<svg id="{id}" …>…</svg>` of the DOM.
fn svg<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no <svg id=\"{id}\"> in the DOM"));
    let end = dom[start..].find("</svg>").expect("the svg is closed") + start;
    &dom[start..end]
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn the_page_renders_in_headless_chromium() {
    let rows = rows();
    let reports = reports(&rows);
    let path = write_page("report-page.html", &reports);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!html.contains("<script"), "the page runs no script");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing external"
    );
    let Some(chromium) = chromium() else { return };

    let dom = run_chromium(&chromium, &path, &["--dump-dom"]);
    assert_eq!(count(&dom, "<svg "), 2, "two charts:\n{dom}");
    assert_eq!(count(&dom, "role=\"img\""), 2);
    assert!(
        !dom.contains("<script"),
        "an escaped queue name made no element"
    );
    assert!(
        dom.contains("&lt;script&gt;&amp;\""),
        "the queue named {EVIL} shows as text"
    );

    let hours = svg(&dom, "chart-hours");
    let busy_hours = PER_HOUR.iter().filter(|n| **n > 0).count();
    assert!(hours.contains("<title id=\"chart-hours-title\">Volume and service level by hour"));
    assert!(hours.contains("<desc id=\"chart-hours-desc\">"));
    assert_eq!(
        count(hours, "class=\"tick hour-label\""),
        24,
        "all 24 hours"
    );
    assert_eq!(count(hours, "class=\"bar offered\""), busy_hours);
    assert_eq!(count(hours, "class=\"bar-value\""), busy_hours);
    assert_eq!(count(hours, "class=\"sl-point\""), busy_hours);
    let abandoning = reports
        .by_hour
        .groups
        .iter()
        .filter(|f| f.abandoned > 0)
        .count();
    assert!(abandoning > 0);
    assert_eq!(count(hours, "class=\"bar abandoned\""), abandoning);
    assert_eq!(count(hours, "class=\"sl-line\""), 1);
    assert!(
        hours.contains(">44</text>"),
        "the busiest hour's count is labelled"
    );

    let queues = svg(&dom, "chart-queues");
    assert!(queues.contains("<title id=\"chart-queues-title\">Handle time by queue"));
    assert_eq!(count(queues, "class=\"queue-label\""), QUEUES.len());
    for class in ["seg talk", "seg wrap", "p90-mark", "value aht", "value p90"] {
        assert_eq!(
            count(queues, &format!("class=\"{class}\"")),
            QUEUES.len(),
            "{class}"
        );
    }
    for (_, name, _) in QUEUES {
        let shown = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(queues.contains(&format!(">{shown}<")), "{name} is labelled");
    }
    assert_eq!(
        count(&dom, "<th scope=\"row\">"),
        QUEUES.len() + 1,
        "a row per queue and the total"
    );

    let png = target_dir().join("report-page.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        &chromium,
        &path,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,1600",
        ],
    );
    let size = std::fs::metadata(&png)
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()))
        .len();
    assert!(
        size > 10 * 1024,
        "the screenshot is {size} bytes: a blank page?"
    );
    eprintln!("screenshot: {} ({size} bytes)", png.display());
}

#[test]
fn an_empty_report_renders_in_headless_chromium() {
    let reports = reports(&[]);
    let path = write_page("report-page-empty.html", &reports);
    let Some(chromium) = chromium() else { return };

    let dom = run_chromium(&chromium, &path, &["--dump-dom"]);
    assert!(dom.contains("No ended engagements in this range"));
    assert_eq!(count(&dom, "role=\"img\""), 2);
    let hours = svg(&dom, "chart-hours");
    assert_eq!(count(hours, "class=\"tick hour-label\""), 24);
    assert_eq!(count(hours, "class=\"bar "), 0);
    let queues = svg(&dom, "chart-queues");
    assert!(queues.contains("No answered engagements"));
    assert_eq!(count(queues, "class=\"seg "), 0);
}
