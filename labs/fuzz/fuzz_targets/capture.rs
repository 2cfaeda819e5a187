//! Any bytes as a capture file: labtrace must report an error or a trace, never panic.
//! The first byte picks the decoder (guessed, or one of the lab protocols), so that
//! every protocol module's decoder sees damaged streams too.
#![no_main]

use labs::decode::Proto;
use labs::render::View;
use labs::{Options, trace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let proto = Proto::ALL.get(usize::from(pick) % (Proto::ALL.len() + 1)).map(|(_, p)| *p);
    for view in [View::Text, View::Json, View::Ladder] {
        let opts = Options { proto, port: None, view, svg: true };
        let _ = trace(file, &opts, std::io::sink());
    }
});
