//! What the benches that run the release binaries share: where the binaries and the output
//! are, settings from the environment, percentiles.

#![allow(dead_code)]

use std::path::PathBuf;

/// A number from the environment, or `default`.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where the functions' release binaries are: `ZCC_BENCH_BIN_DIR`, or the release directory
/// this bench was built into (`target/release/deps/<bench>` → `target/release`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ZCC_BENCH_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .expect("target/<profile>/deps/<bench>")
}

/// Where the benches write their JSON: `ZCC_BENCH_OUT`, or `target/bench`.
pub fn out_dir() -> PathBuf {
    let dir = std::env::var_os("ZCC_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            bin_dir()
                .parent()
                .map(|target| target.join("bench"))
                .expect("target/<profile>")
        });
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The `p` quantile (0..=1) of sorted values, by nearest rank.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}
