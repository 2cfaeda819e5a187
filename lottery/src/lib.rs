//! # lottery — Lab 3 Practice 3: the GEN/LIST/END server and client
//!
//! | module | what it holds |
//! |---|---|
//! | [`server`] | the lesson of `LotteryServer.c`, blanks ① to ⑥: [`server::serve`] (one client at a time, a process or a thread per client) |
//! | [`client`] | the lesson of `LotteryClient.c`, blanks ⑦ to ⑩: [`client::run`] |
//! | [`proto`] | the wire format: 4-byte commands, text replies; framing, parse, encode, one-line `Display`; no sockets |
//! | [`draw`] | the game: six distinct numbers from 1 to 45; which draw each session answers from |

pub mod client;
pub mod draw;
pub mod proto;
pub mod server;
