//! After an upload scenario (`udpft`, `rft`): the copy the server wrote compared with
//! the original, datagram by datagram. The course's upload has no sequence numbers, so
//! a lost datagram is a hole nobody sees: this says which 1024-byte pieces are missing
//! and which came out of place. The reliable transfer must deliver the file identical.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::scenario::{Play, Scenario};

/// The course's datagram size.
const PIECE: usize = 1024;

/// Compares `root/copy.bin` with `data.bin`; prints the result when the run shows a
/// transcript. `udpft` may differ (that is the lesson); `rft` may not. Returns the
/// copy's length.
pub fn compare(play: &Play, client_time: Duration) -> unp::Result<u64> {
    let read = |p: PathBuf| {
        std::fs::read(&p)
            .map_err(|e| unp::Error::os("open", e).with_detail(p.display().to_string()))
    };
    let original = read(play.workdir.join("data.bin"))?;
    let copy = read(play.workdir.join("root").join("copy.bin"))?;
    let name = play.scenario;
    if copy == original {
        let secs = client_time.as_secs_f64().max(1e-9);
        if play.transcript {
            println!(
                "{name}: copy.bin is identical to data.bin: {} in {secs:.3} s ({:.1} Mbit/s)",
                crate::plural(copy.len(), "byte"),
                copy.len() as f64 * 8.0 / secs / 1e6
            );
        }
        return Ok(copy.len() as u64);
    }
    let what = differences(&original, &copy);
    if name == Scenario::Rft {
        return Err(unp::Error::msg(format!("rft: the copy differs: {what}")));
    }
    if play.transcript {
        println!("{name}: copy.bin differs from data.bin: {what}");
        println!(
            "{name}: no sequence numbers, no ACKs: neither the client nor the server can tell (both said they were done)"
        );
    }
    Ok(copy.len() as u64)
}

/// How `copy` differs from `original`, in 1024-byte datagrams.
fn differences(original: &[u8], copy: &[u8]) -> String {
    let pieces: Vec<&[u8]> = original.chunks(PIECE).collect();
    let at: HashMap<&[u8], usize> = pieces.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let came: Vec<Option<usize>> = copy.chunks(PIECE).map(|p| at.get(p).copied()).collect();
    let mut seen = vec![false; pieces.len()];
    came.iter().flatten().for_each(|&i| seen[i] = true);
    let missing: Vec<usize> = (0..pieces.len()).filter(|&i| !seen[i]).collect();
    let out_of_place = came
        .windows(2)
        .filter(|w| matches!(w, [Some(a), Some(b)] if b < a))
        .count();
    let first = original
        .iter()
        .zip(copy)
        .position(|(a, b)| a != b)
        .unwrap_or(original.len().min(copy.len()));
    let shown: Vec<String> = missing
        .iter()
        .take(12)
        .map(|i| (i + 1).to_string())
        .collect();
    let more = if missing.len() > 12 { ", …" } else { "" };
    format!(
        "{} of {}; {} of its {} missing ({}{more}), {out_of_place} out of place; first difference at byte {first}",
        copy.len(),
        crate::plural(original.len(), "byte"),
        missing.len(),
        crate::plural(pieces.len(), "datagram"),
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_swapped_datagrams_are_named() {
        let original: Vec<u8> = (0..5 * PIECE).map(|i| (i / PIECE) as u8).collect();
        let mut copy = original[..PIECE].to_vec(); // 1
        copy.extend_from_slice(&original[3 * PIECE..4 * PIECE]); // 4
        copy.extend_from_slice(&original[2 * PIECE..3 * PIECE]); // 3 (after 4)
        copy.extend_from_slice(&original[4 * PIECE..]); // 5
        let d = differences(&original, &copy);
        assert!(d.starts_with("4096 of 5120 bytes; 1 of its 5 datagrams missing (2), 1 out of place; first difference at byte 1024"), "{d}");
    }
}
