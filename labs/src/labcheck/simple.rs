//! TODO
use super::session::Session;
/// TODO
pub fn check_server(_s: &mut Session<'_>) {}
/// TODO
pub fn check_client(_s: &mut Session<'_>) {}
