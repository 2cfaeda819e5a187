//! Any bytes as a frame of any supported link type, then through the connection
//! tracker and every protocol decoder: never a panic.
#![no_main]

use labs::decode::{Proto, Side, describe};
use labs::packet::tcp_segment;
use labs::tcp::Tracker;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut tracker = Tracker::new(None, None);
    for linktype in [0, 1, 101, 108, 113, 276] {
        if let Ok(seg) = tcp_segment(linktype, data) {
            let _ = tracker.segment(1, 0, &seg);
        }
    }
    for (_, proto) in Proto::ALL {
        for side in [Side::Client, Side::Server] {
            let (_, used) = describe(proto, side, data);
            assert!(used <= data.len());
        }
    }
});
