//! TODO
use std::path::{Path, PathBuf};
/// TODO
pub fn default_workspace() -> PathBuf {
    PathBuf::new()
}
/// TODO
pub fn generate(_p: &str, _f: &Path, _d: &Path) -> unp::Result<usize> {
    Ok(0)
}
