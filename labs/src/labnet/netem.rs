//! Whether this kernel has `sch_netem`, the queueing discipline most tools impair a
//! link with (`tc qdisc add dev eth0 root netem delay 100ms loss 10%`). `labnet up`
//! asks once, on the loopback of its own fresh client namespace (nothing outside the
//! network is touched, and the probe's qdisc is removed at once), and says what it
//! found. Either way the impairments are those of labnet's own link: one
//! implementation, the one its tests measure, on every kernel (the reasons are in
//! docs/labnet-inside.md#netem).

use std::process::Command;

use super::command::trace;

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Netem {
    /// `tc qdisc add ... netem` worked.
    Present,
    /// The kernel does not know the qdisc (tc's own words).
    Absent(String),
    /// The probe could not tell: no `tc`, or another error (its words).
    Unknown(String),
}

/// Asks whether the kernel has netem, by adding it to `lo` in namespace `ns` (and
/// removing it again); prints the command.
pub fn probe(ns: &str) -> Netem {
    let args = ["-n", ns, "qdisc", "add", "dev", "lo", "root", "netem"];
    trace(format_args!(
        "tc {}    # has this kernel netem? (removed at once if so)",
        args.join(" ")
    ));
    let out = match Command::new("tc").args(args).output() {
        Ok(out) => out,
        Err(e) => return Netem::Unknown(format!("cannot run tc: {e}")),
    };
    if out.status.success() {
        let _ = Command::new("tc")
            .args(["-n", ns, "qdisc", "del", "dev", "lo", "root"])
            .output();
        return Netem::Present;
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match said.contains("qdisc kind is unknown") {
        true => Netem::Absent(said),
        false => Netem::Unknown(said),
    }
}

/// The line `labnet up` prints about it.
pub fn verdict(found: &Netem) -> String {
    let either = "the link is labnet's own either way (docs/labnet-inside.md#netem)";
    match found {
        Netem::Present => format!("labnet: netem is in this kernel; {either}"),
        Netem::Absent(said) => {
            format!("labnet: netem is not in this kernel (tc: {said}); {either}")
        }
        Netem::Unknown(said) => format!("labnet: netem: cannot tell ({said}); {either}"),
    }
}
