//! # lottery — Lab 3 Practice 3: the GEN/LIST/END server and client
//!
//! | module | what it holds |
//! |---|---|
//! | [`proto`] | the wire format: 4-byte commands, text replies; pure encode/decode |
//! | [`draw`] | the game: six distinct numbers from 1 to 45 |
//! | [`server`] | one session per connection; iterative, fork and thread servers |
//! | [`client`] | the prompt loop: one command, one reply |

pub mod client;
pub mod draw;
pub mod proto;
pub mod server;
