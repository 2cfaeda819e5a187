//! `tcpcliserv`: filled in by its own issue.
