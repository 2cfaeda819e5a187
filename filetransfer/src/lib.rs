//! `filetransfer`: filled in by its own issue.
