//! What the cli's tests share: a local stack, the shipped `zcc` binary run as a person runs
//! it, and scratch directories.

use std::path::{Path, PathBuf};

use serde_json::Value;
use zcc_cli::stack::{Stack, StackOptions};
use zcc_testkit::day::GeneratedDay;
use zcc_testkit::post_now;

/// A local stack (in memory, on free ports) over `table`, verifying webhooks with `secret` and
/// Flow POSTs with `flow`.
pub async fn stack(table: &str, secret: &str, flow: &str) -> Stack {
    let env = |name: &str| match name {
        "TABLE_NAME" => Some(table.to_owned()),
        "ZOOM_WEBHOOK_SECRET_TOKEN" => Some(secret.to_owned()),
        "FLOW_AUTH_TOKEN" => Some(flow.to_owned()),
        _ => None,
    };
    Stack::start(&StackOptions::ephemeral(), &env)
        .await
        .unwrap()
}

/// A local stack holding a generated day: each of its webhooks sent as Zoom sends it.
pub async fn stack_with_day(table: &str, secret: &str, day: &GeneratedDay) -> Stack {
    let stack = stack(table, secret, "unused").await;
    let url = stack.url("zoom-webhook");
    for body in &day.webhooks {
        let reply = post_now(&url, secret, body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    stack
}

/// What a run of `zcc` did.
pub struct Run {
    pub ok: bool,
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the shipped `zcc` with `args`, `TABLE_NAME=table` and `env` (the rest of the
/// environment inherited), in `dir` when given.
pub async fn zcc(table: &str, env: &[(&str, &str)], dir: Option<&Path>, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_zcc"));
    command
        .args(args)
        .env("TABLE_NAME", table)
        .envs(env.iter().copied());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().await.unwrap();
    Run {
        ok: output.status.success(),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The run's stdout as JSON; the run must have succeeded.
pub fn json(run: &Run) -> Value {
    assert!(run.ok, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// An empty directory of its own under the system's temporary directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zcc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}
