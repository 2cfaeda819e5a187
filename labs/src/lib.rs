//! `labs`: filled in by its own issue.
