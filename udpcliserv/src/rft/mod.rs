//! A reliable file transfer over UDP, unplab's own (`rftserver`, `rftclient`): the
//! course's upload with what UDP leaves out added by the programs, as UNP chapter 22
//! ("Adding Reliability to a UDP Application") does for a request and its reply.
//!
//! | module | what it adds |
//! |---|---|
//! | [`proto`] | a 16-byte header: kind, sequence number, timestamp (`docs/protocols/udp-rft.md`) |
//! | [`rtt`] | the retransmission timeout from measured round trips (UNP 22.5's `rtt_info`) |
//! | [`window`] | up to `--window` packets in flight, cumulative ACKs, fast retransmit |
//! | [`sender`] | the client's lesson: [`sender::upload`] |
//! | [`receiver`] | the server's lesson: [`receiver::serve`], and reassembly in order |
//!
//! What it does not do: congestion control (the window is fixed: on a shared network
//! it would push as hard after a loss as before), or keep a half-received file from
//! being seen under its final name.

pub mod proto;
pub mod receiver;
pub mod rtt;
pub mod sender;
pub mod window;
