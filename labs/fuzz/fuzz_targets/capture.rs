//! Any bytes as a capture file: labtrace must report an error or a trace, never panic.
#![no_main]

use labs::render::View;
use labs::{Options, trace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for view in [View::Text, View::Json, View::Ladder] {
        let opts = Options { proto: None, port: None, view, svg: true };
        let _ = trace(data, &opts, std::io::sink());
    }
});
