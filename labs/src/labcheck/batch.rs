//! TODO
use std::path::{Path, PathBuf};
use std::time::Duration;
/// TODO
pub struct BatchOptions {
    /// a
    pub out: PathBuf,
    /// b
    pub jobs: usize,
    /// c
    pub time_limit: Duration,
    /// d
    pub capture: bool,
}
/// TODO
pub fn run(_m: &Path, _o: &BatchOptions) -> unp::Result<String> {
    Ok(String::new())
}
