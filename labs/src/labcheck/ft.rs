//! TODO
use super::session::Session;
/// TODO
pub fn check(_s: &mut Session<'_>) {}
