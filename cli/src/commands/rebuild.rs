//! `zcc rebuild`: derive a state item again from its stored events, after an upgrade that
//! models more events or for events kept raw with `merge_error`; with `--all`, every one of
//! them, resumably (a checkpoint file of the partitions done).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;
use zcc_domain::ids::{EngagementId, UserId};
use zcc_domain::time_range::Day;
use zcc_shared::dynamodb::rebuild::RebuildScope;
use zcc_shared::dynamodb::schema::PK;
use zcc_shared::dynamodb::{DynamoStore, RebuildTarget, Rebuilt};

use super::{CliError, TableArgs, succeeded, terminal};

/// Derive an engagement's (or an agent's, or with --all every) state item again from its
/// stored events: after upgrading to a version that models more events or changes a merge
/// rule, or to merge events kept raw with `merge_error`. Safe while events arrive.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("target").required(true))]
#[command(group = clap::ArgGroup::new("with_all").multiple(true).conflicts_with_all(["engagement_id", "agent"]))]
pub struct Args {
    #[arg(group = "target")]
    engagement_id: Option<String>,
    /// Rebuild this agent's state item instead.
    #[arg(long, group = "target")]
    agent: Option<String>,
    /// Rebuild every engagement and agent (found by a Scan), N at a time; resumable: the
    /// partitions done are kept in a checkpoint file until all are done.
    #[arg(long, group = "target")]
    all: bool,
    /// With --all: only engagements whose first event is on this UTC day or later (by the
    /// day index; engagements with no state item are not found this way), and all agents.
    #[arg(long, requires = "all", group = "with_all", value_name = "YYYY-MM-DD")]
    since: Option<Day>,
    /// With --all: partitions rebuilt at a time (and Scan segments) [default: 8].
    #[arg(
        long,
        requires = "all",
        group = "with_all",
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    concurrency: Option<u16>,
    /// With --all: where the partitions done are kept [default:
    /// .zcc/rebuild-<table>.checkpoint].
    #[arg(long, requires = "all", group = "with_all", value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// With --all: ignore the checkpoint and start over.
    #[arg(long, requires = "all", group = "with_all")]
    restart: bool,
    /// Show what would change, write nothing (with --all, the checkpoint neither).
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    table: TableArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, CliError> {
    let store = args.table.store().await;
    if args.all {
        let options = AllOptions {
            since: args.since,
            dry_run: args.dry_run,
            concurrency: usize::from(args.concurrency.unwrap_or(DEFAULT_CONCURRENCY)),
            checkpoint: args
                .checkpoint
                .unwrap_or_else(|| default_checkpoint(&args.table.table)),
            restart: args.restart,
        };
        let summary = rebuild_all(&store, &options).await?;
        args.table.print(&summary, render_summary);
        return Ok(succeeded(summary.failed == 0));
    }
    let target = target(args.engagement_id, args.agent)?;
    let rebuilt = rebuild(&store, &target, args.dry_run).await?;
    if args.table.json {
        println!("{}", json(&rebuilt));
    } else {
        print!("{}", terminal::safe(&render(&rebuilt, args.dry_run)));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn target(
    engagement_id: Option<String>,
    agent: Option<String>,
) -> Result<RebuildTarget, CliError> {
    match (engagement_id, agent) {
        (Some(id), None) => EngagementId::parse(id)
            .map(RebuildTarget::Engagement)
            .map_err(|e| CliError::Usage(format!("engagement id: {e}"))),
        (None, Some(id)) => UserId::parse(id)
            .map(RebuildTarget::Agent)
            .map_err(|e| CliError::Usage(format!("user id: {e}"))),
        _ => Err(CliError::Usage(
            "give an ENGAGEMENT_ID or --agent USER_ID".into(),
        )),
    }
}

pub async fn rebuild(
    store: &DynamoStore,
    target: &RebuildTarget,
    dry_run: bool,
) -> Result<Rebuilt, CliError> {
    let table_name = store.table();
    let rebuilt = store.rebuild(target, dry_run).await?;
    if rebuilt.events == 0 {
        return Err(CliError::NotFound(format!(
            "no events are stored under {} in {table_name}: nothing to rebuild from",
            rebuilt.pk
        )));
    }
    Ok(rebuilt)
}

pub fn render(rebuilt: &Rebuilt, dry_run: bool) -> String {
    let changes = if rebuilt.changed.is_empty() {
        "no attribute changes".to_owned()
    } else {
        format!("changes {}", rebuilt.changed.join(", "))
    };
    let verb = match (dry_run, rebuilt.written) {
        (true, _) => "would be rebuilt",
        (false, true) => "rebuilt",
        (false, false) => "already up to date",
    };
    let mut out = format!(
        "{}: {verb} from {} events ({changes})\n",
        rebuilt.pk, rebuilt.events
    );
    if rebuilt.previously_unmerged > 0 {
        out.push_str(&format!(
            "{} event(s) kept raw with merge_error {}\n",
            rebuilt.previously_unmerged,
            if rebuilt.written {
                "are merged now"
            } else {
                "would be merged"
            }
        ));
    }
    out
}

pub fn json(rebuilt: &Rebuilt) -> Value {
    serde_json::to_value(rebuilt).unwrap_or(Value::Null)
}

/// How many partitions `--all` rebuilds at a time unless told.
pub const DEFAULT_CONCURRENCY: u16 = 8;
/// How many failures a summary lists (it counts them all).
const FAILURES_LISTED: usize = 5;

/// Where `--all` keeps the partitions it has done, unless told: `.zcc/rebuild-<table>.checkpoint`.
pub fn default_checkpoint(table: &str) -> PathBuf {
    Path::new(".zcc").join(format!("rebuild-{table}.checkpoint"))
}

/// `zcc rebuild --all`.
#[derive(Debug, Clone)]
pub struct AllOptions {
    /// Only engagements whose first event is on this UTC day or later (and every agent).
    pub since: Option<Day>,
    /// Find what would change, write nothing (the checkpoint neither read nor written).
    pub dry_run: bool,
    /// Partitions rebuilt at a time, and the Scan's segments.
    pub concurrency: usize,
    pub checkpoint: PathBuf,
    /// Ignore the checkpoint and replace it.
    pub restart: bool,
}

/// What `zcc rebuild --all` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub table: String,
    pub dry_run: bool,
    pub since: Option<String>,
    /// Partitions found (engagements and agents).
    pub partitions: usize,
    /// Of those, partitions the checkpoint listed as done by an earlier run: not rebuilt.
    pub skipped_already_done: usize,
    /// Partitions rebuilt (on a dry run: checked) without error: `changed + unchanged +
    /// without_events`.
    pub rebuilt: usize,
    /// Partitions whose state item differs from what their events give (on a dry run: would).
    pub changed: usize,
    /// Of the changed, those that had no state item at all.
    pub created: usize,
    pub unchanged: usize,
    /// Partitions with a state item but no event items left (say, expired by retention):
    /// nothing to derive from, kept as they are.
    pub without_events: usize,
    /// State items written.
    pub written: usize,
    /// Events kept raw with `merge_error` that are merged now (on a dry run: would be).
    pub previously_unmerged: usize,
    pub failed: usize,
    /// The first few failures.
    pub failures: Vec<Failure>,
    /// How many changed state items had each attribute changed (re-created ones aside).
    pub changed_attributes: BTreeMap<String, usize>,
    pub elapsed_seconds: f64,
    /// The checkpoint, when it is kept (some partitions failed): run again to retry them.
    pub checkpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub pk: String,
    pub error: String,
}

impl Summary {
    fn fail(&mut self, pk: String, error: String) {
        self.failed += 1;
        if self.failures.len() < FAILURES_LISTED {
            self.failures.push(Failure { pk, error });
        }
    }

    fn count(&mut self, rebuilt: &Rebuilt) {
        self.rebuilt += 1;
        if rebuilt.events == 0 {
            self.without_events += 1;
            return;
        }
        if rebuilt.changed.is_empty() {
            self.unchanged += 1;
        } else if rebuilt.changed.iter().any(|a| a == PK) {
            // There was no state item: every attribute is new, the keys too.
            self.changed += 1;
            self.created += 1;
        } else {
            self.changed += 1;
            for attribute in &rebuilt.changed {
                *self
                    .changed_attributes
                    .entry(attribute.clone())
                    .or_default() += 1;
            }
        }
        self.written += usize::from(rebuilt.written);
        self.previously_unmerged += rebuilt.previously_unmerged;
    }
}

/// The partitions an earlier `--all` finished, one key a line (`#` starts a comment).
pub struct Checkpoint {
    path: PathBuf,
    file: std::fs::File,
}

impl Checkpoint {
    /// The partitions listed in the checkpoint at `path`: none if there is no such file.
    pub fn done(path: &Path) -> Result<HashSet<String>, CliError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
            Err(e) => Err(CliError::read(path, e)),
        }
    }

    /// Opens the checkpoint to append to, or replaces it (`restart`), creating its directory.
    pub fn open(path: &Path, table: &str, restart: bool) -> Result<Self, CliError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(!restart)
            .write(true)
            .truncate(restart)
            .open(path)
            .map_err(|e| file_error(path, e))?;
        let existing = if restart {
            String::new()
        } else {
            std::fs::read_to_string(path).map_err(|e| file_error(path, e))?
        };
        let start = if existing.is_empty() {
            format!(
                "# zcc rebuild --all: the partitions of table {table} rebuilt so far, one a line. \
                 A rerun skips them; --restart (or deleting this file) starts over.\n"
            )
        } else if !existing.ends_with('\n') {
            // A line cut short by an interruption: end it, so the next starts afresh.
            "\n".to_owned()
        } else {
            String::new()
        };
        file.write_all(start.as_bytes())
            .map_err(|e| file_error(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// Records one partition as done, at once (one write per line).
    pub fn record(&mut self, pk: &str) -> Result<(), CliError> {
        self.file
            .write_all(format!("{pk}\n").as_bytes())
            .map_err(|e| file_error(&self.path, e))
    }

    /// Deletes the checkpoint: the run is complete.
    pub fn remove(self) -> Result<(), CliError> {
        drop(self.file);
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(file_error(&self.path, e)),
            _ => Ok(()),
        }
    }
}

fn file_error(path: &Path, err: std::io::Error) -> CliError {
    CliError::write(path, err)
}

/// The progress line on stderr: redrawn in place on a terminal, a line every 5% otherwise.
pub struct Progress {
    total: usize,
    terminal: bool,
    dry_run: bool,
    /// 5% steps printed so far (not on a terminal).
    steps: usize,
    drawn: Option<Instant>,
}

/// A terminal's line is redrawn at most this often.
const REDRAW: Duration = Duration::from_millis(100);

impl Progress {
    pub fn new(total: usize, terminal: bool, dry_run: bool) -> Self {
        Self {
            total,
            terminal,
            dry_run,
            steps: 0,
            drawn: None,
        }
    }

    /// `rebuilding [####      ] 1234/5000 (24%) · 310 changed · 2 failed` (the bar on a
    /// terminal only).
    pub fn line(&self, done: usize, changed: usize, failed: usize) -> String {
        let total = self.total.max(1);
        let bar = if self.terminal {
            let filled = done * 20 / total;
            format!("[{}{}] ", "#".repeat(filled), " ".repeat(20 - filled))
        } else {
            String::new()
        };
        let verb = if self.dry_run {
            "checking"
        } else {
            "rebuilding"
        };
        let changed_word = if self.dry_run { "to change" } else { "changed" };
        format!(
            "{verb} {bar}{done}/{} ({}%) · {changed} {changed_word} · {failed} failed",
            self.total,
            done * 100 / total
        )
    }

    /// What to write to stderr now that `done` partitions are done, if anything.
    pub fn tick(&mut self, done: usize, changed: usize, failed: usize) -> Option<String> {
        let last = done >= self.total;
        if self.terminal {
            if !last && self.drawn.is_some_and(|at| at.elapsed() < REDRAW) {
                return None;
            }
            self.drawn = Some(Instant::now());
            let end = if last { "\n" } else { "" };
            return Some(format!("\r{}{end}", self.line(done, changed, failed)));
        }
        let steps = done * 20 / self.total.max(1);
        if steps <= self.steps {
            return None;
        }
        self.steps = steps;
        Some(format!("{}\n", self.line(done, changed, failed)))
    }
}

fn status(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// `zcc rebuild --all`: finds every engagement and agent partition (or those since a day),
/// rebuilds them `concurrency` at a time, recording each one done in the checkpoint, and sums
/// up. Progress goes to stderr; nothing to stdout.
pub async fn rebuild_all(store: &DynamoStore, options: &AllOptions) -> Result<Summary, CliError> {
    let started = Instant::now();
    // The rebuild's writes would only churn a cache that nothing here reads again.
    let store = store.clone().with_cache_capacity(0);
    let concurrency = options.concurrency.max(1);
    let scope = match &options.since {
        Some(day) => RebuildScope::Since(day.to_string()),
        None => RebuildScope::All,
    };
    let terminal = std::io::stderr().is_terminal();
    status(&format!(
        "finding the engagement and agent partitions of {}{}…\n",
        store.table(),
        match &options.since {
            Some(day) => format!(" (engagements since {day})"),
            None => String::new(),
        }
    ));
    let found = store
        .rebuild_targets(&scope, u32::try_from(concurrency).unwrap_or(u32::MAX))
        .await?;
    let done_before = if options.dry_run || options.restart {
        HashSet::new()
    } else {
        Checkpoint::done(&options.checkpoint)?
    };
    let mut summary = Summary {
        table: store.table().to_owned(),
        dry_run: options.dry_run,
        since: options.since.map(|d| d.to_string()),
        partitions: found.targets.len() + found.unreadable.len(),
        ..Summary::default()
    };
    for pk in found.unreadable {
        summary.fail(pk, "the key holds no valid engagement or user id".into());
    }
    let todo: Vec<RebuildTarget> = found
        .targets
        .into_iter()
        .filter(|t| !done_before.contains(&t.pk()))
        .collect();
    summary.skipped_already_done = summary.partitions - summary.failed - todo.len();
    status(&format!(
        "found {} partitions{}\n",
        summary.partitions,
        if summary.skipped_already_done > 0 {
            format!(
                ", {} already done by an earlier run ({})",
                summary.skipped_already_done,
                options.checkpoint.display()
            )
        } else {
            String::new()
        }
    ));
    let mut checkpoint = if options.dry_run {
        None
    } else {
        Some(Checkpoint::open(
            &options.checkpoint,
            store.table(),
            options.restart,
        )?)
    };

    let mut progress = Progress::new(todo.len(), terminal, options.dry_run);
    let mut queue = todo.into_iter();
    let mut tasks = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut done = 0;
    loop {
        while tasks.len() < concurrency {
            let Some(target) = queue.next() else { break };
            let store = store.clone();
            let pk = target.pk();
            let dry_run = options.dry_run;
            let task = tasks.spawn(async move { store.rebuild(&target, dry_run).await });
            running.insert(task.id(), pk);
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let (id, result) = match joined {
            Ok((id, result)) => (id, result.map_err(|e| e.to_string())),
            Err(err) => (err.id(), Err(format!("the rebuild stopped: {err}"))),
        };
        let pk = running.remove(&id).unwrap_or_default();
        match result {
            Ok(rebuilt) => {
                summary.count(&rebuilt);
                if let Some(checkpoint) = checkpoint.as_mut() {
                    checkpoint.record(&pk)?;
                }
            }
            Err(error) => summary.fail(pk, error),
        }
        done += 1;
        if let Some(text) = progress.tick(done, summary.changed, summary.failed) {
            status(&text);
        }
    }

    if let Some(checkpoint) = checkpoint {
        if summary.failed == 0 {
            checkpoint.remove()?;
        } else {
            summary.checkpoint = Some(options.checkpoint.display().to_string());
        }
    }
    summary.elapsed_seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Ok(summary)
}

/// The summary for a person.
pub fn render_summary(summary: &Summary) -> String {
    let (verb, dry, changed) = if summary.dry_run {
        ("checked", " (dry run: nothing written)", "would change")
    } else {
        ("rebuilt", "", "changed")
    };
    let mut out = format!(
        "{verb} {} of {} partitions of {} in {:.1} s{dry}: {} {changed}",
        summary.rebuilt,
        summary.partitions,
        summary.table,
        summary.elapsed_seconds,
        summary.changed,
    );
    if summary.created > 0 {
        out.push_str(&format!(" ({} had no state item)", summary.created));
    }
    out.push_str(&format!(", {} unchanged", summary.unchanged));
    if summary.without_events > 0 {
        out.push_str(&format!(
            ", {} without events (kept as they are)",
            summary.without_events
        ));
    }
    out.push_str(&format!(", {} failed\n", summary.failed));
    if summary.skipped_already_done > 0 {
        out.push_str(&format!(
            "{} skipped as already done by an earlier run\n",
            summary.skipped_already_done
        ));
    }
    if !summary.changed_attributes.is_empty() {
        let attributes: Vec<String> = summary
            .changed_attributes
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect();
        out.push_str(&format!("attributes changed: {}\n", attributes.join(", ")));
    }
    if summary.previously_unmerged > 0 {
        out.push_str(&format!(
            "{} event(s) kept raw with merge_error {}\n",
            summary.previously_unmerged,
            if summary.dry_run {
                "would be merged"
            } else {
                "are merged now"
            }
        ));
    }
    for failure in &summary.failures {
        out.push_str(&format!("failed: {}: {}\n", failure.pk, failure.error));
    }
    if summary.failed > summary.failures.len() {
        out.push_str(&format!(
            "...and {} more\n",
            summary.failed - summary.failures.len()
        ));
    }
    if let Some(path) = &summary.checkpoint {
        out.push_str(&format!(
            "what is done is kept in {path}: run the same command again to retry the rest\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_a_line_every_5_percent_off_a_terminal() {
        let mut progress = Progress::new(40, false, false);
        let lines: Vec<String> = (1..=40)
            .filter_map(|done| progress.tick(done, done / 4, 0))
            .collect();
        assert_eq!(lines.len(), 20);
        assert_eq!(lines[0], "rebuilding 2/40 (5%) · 0 changed · 0 failed\n");
        assert_eq!(
            lines[19],
            "rebuilding 40/40 (100%) · 10 changed · 0 failed\n"
        );
        let mut few = Progress::new(3, false, true);
        let lines: Vec<String> = (1..=3).filter_map(|d| few.tick(d, 1, 0)).collect();
        assert_eq!(lines[2], "checking 3/3 (100%) · 1 to change · 0 failed\n");
    }

    #[test]
    fn on_a_terminal_progress_is_one_line_redrawn() {
        let mut progress = Progress::new(5000, true, false);
        let first = progress.tick(1234, 310, 2).unwrap();
        assert_eq!(
            first,
            "\rrebuilding [####                ] 1234/5000 (24%) · 310 changed · 2 failed"
        );
        assert_eq!(progress.tick(1235, 310, 2), None, "not again so soon");
        let last = progress.tick(5000, 400, 2).unwrap();
        assert!(last.starts_with("\rrebuilding [####################] 5000/5000 (100%)"));
        assert!(last.ends_with('\n'));
    }

    #[test]
    fn a_checkpoint_lists_what_is_done_across_runs() {
        let dir = std::env::temp_dir().join(format!("zcc-checkpoint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("nested/t.checkpoint");
        assert!(Checkpoint::done(&path).unwrap().is_empty());
        let mut checkpoint = Checkpoint::open(&path, "t", false).unwrap();
        checkpoint.record("ENGAGEMENT#a").unwrap();
        drop(checkpoint);
        // An interrupted write left half a line.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"ENGAGEMENT#b-cut-sh").unwrap();
        let mut checkpoint = Checkpoint::open(&path, "t", false).unwrap();
        checkpoint.record("AGENT#u").unwrap();
        let done = Checkpoint::done(&path).unwrap();
        let expected: HashSet<String> = ["ENGAGEMENT#a", "ENGAGEMENT#b-cut-sh", "AGENT#u"]
            .map(str::to_owned)
            .into();
        assert_eq!(done, expected);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("# zcc rebuild --all")
        );
        drop(checkpoint);
        let restarted = Checkpoint::open(&path, "t", true).unwrap();
        assert!(Checkpoint::done(&path).unwrap().is_empty());
        restarted.remove().unwrap();
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_summary_tells_changed_created_and_unchanged_apart() {
        let rebuilt = |events, changed: &[&str], written| Rebuilt {
            pk: "ENGAGEMENT#x".into(),
            events,
            previously_unmerged: 0,
            changed: changed.iter().map(|c| c.to_string()).collect(),
            written,
        };
        let mut summary = Summary::default();
        summary.count(&rebuilt(3, &["queue_id", "transfer_count"], true));
        summary.count(&rebuilt(3, &["entity", PK, "status"], true));
        summary.count(&rebuilt(3, &[], false));
        summary.count(&rebuilt(0, &["status"], false));
        summary.fail("ENGAGEMENT#y".into(), "storage_corrupt".into());
        assert_eq!(
            (
                summary.rebuilt,
                summary.changed,
                summary.created,
                summary.unchanged,
                summary.without_events,
                summary.written,
                summary.failed
            ),
            (4, 2, 1, 1, 1, 2, 1)
        );
        assert_eq!(
            summary.changed_attributes,
            BTreeMap::from([("queue_id".into(), 1), ("transfer_count".into(), 1)])
        );
        let text = render_summary(&summary);
        assert!(
            text.contains("2 changed (1 had no state item), 1 unchanged"),
            "{text}"
        );
        assert!(
            text.contains("failed: ENGAGEMENT#y: storage_corrupt"),
            "{text}"
        );
    }
}
