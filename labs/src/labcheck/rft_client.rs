//! The reliable transfer's client checks (`rftclient IP ORIGIN COPY --port P`): labcheck
//! plays the server with a [receiver](super::rft_receiver) of its own, first directly,
//! then behind its lossy
//! [`relay`](super::relay); the data must arrive identical and the client end with
//! status 0. A relay that only delays shows spurious retransmissions (a timeout that
//! does not follow the round trip). Then a refusal and a server that is not there.

use std::time::Duration;

use udpcliserv::rft::proto::{Kind, MAX_DATA, Packet};

use super::dgram::Dgram;
use super::ftfiles::{content, first_difference};
use super::proc::describe_status;
use super::relay::{Impair, Relay};
use super::report::{Failure, Tag};
use super::rft::{IMPAIRED_SIZE, origin, transfers};
use super::rft_receiver::{Expect, Received, receive};
use super::session::{Done, Session, pass};

/// One upload of `data`, directly or through a relay with `imp`: what came, and the
/// relay's count.
fn exchange(
    s: &mut Session<'_>,
    name: &str,
    data: &[u8],
    imp: Option<Impair>,
) -> Result<(Received, String), Failure> {
    origin(s, name, data)?;
    let local = format!("orig-{name}");
    let remote = format!("copy-{name}");
    let front = match s.opts.fixed_port {
        Some(p) => p,
        None => s.port()?,
    };
    let sv = Dgram::bind(s, if imp.is_some() { 0 } else { front }, "S")?;
    let relay = match imp {
        Some(imp) => Some(
            Relay::start(front, super::proc::loopback(sv.port()), imp, 15).map_err(|e| {
                Failure::new(
                    "labcheck's relay",
                    e.to_string(),
                    "labcheck could not bind it",
                )
            })?,
        ),
        None => None,
    };
    if let Some(imp) = imp {
        s.say(format!(
            "relay on port {front} to labcheck's server on {}: {}",
            sv.port(),
            imp.describe()
        ));
    }
    let argv = s.argv(&[
        ("{host}", "127.0.0.1"),
        ("{port}", &front.to_string()),
        ("{local}", &local),
        ("{remote}", &remote),
    ]);
    let mut prog = s.spawn(&argv)?;
    let want = Expect {
        remote: &remote,
        fin: data.len().div_ceil(MAX_DATA) as u32 + 1,
        lossy: imp.is_some_and(|i| i.loss > 0.0),
    };
    let got = receive(s, &mut prog, &sv, &want);
    let tally = relay.map(Relay::stop).map(|(up, down)| {
        format!("; the relay toward the server: {up}; toward the client: {down}")
    });
    let tally = tally.unwrap_or_default();
    s.say(format!("upload ended{tally}"));
    let got = got?;
    if got.data != data {
        return Err(Failure::new(
            format!("the {} of {local}", crate::plural(data.len(), "byte")),
            first_difference(&got.data, data),
            "DATA n carries the file's bytes from (n-1)·1024: read() the file in order, 1024 bytes a packet",
        ));
    }
    match prog.wait_exit(s.t.max(Duration::from_secs(5))) {
        Some(st) if st.success() => Ok((got, tally)),
        Some(st) => Err(Failure::new(
            "exit status 0",
            describe_status(st),
            prog.said(),
        )),
        None => Err(Failure::new(
            "the client ends once its FIN is acknowledged",
            "still running",
            "the upload is done when the ACK of the FIN arrives",
        )),
    }
}

/// One upload, its note for the report.
fn upload(
    s: &mut Session<'_>,
    name: &str,
    data: &[u8],
    imp: Option<Impair>,
) -> Result<String, Failure> {
    let (got, tally) = exchange(s, name, data, imp)?;
    Ok(format!(
        "{} identical: {} came, {} of them again{tally}",
        crate::plural(data.len(), "byte"),
        crate::plural(got.packets, "packet"),
        got.repeats
    ))
}

/// The relay's delay each way in `rft-client.delay`.
const DELAY: Duration = Duration::from_millis(10);

/// 100 KiB through a relay that loses nothing but delays: every packet sent again is a
/// spurious retransmission, and more than a tenth of them fails the step.
fn delay(s: &mut Session<'_>) -> Result<Done, Failure> {
    let imp = Impair {
        delay: DELAY,
        ..Impair::NONE
    };
    let data = content(IMPAIRED_SIZE);
    let (got, tally) = exchange(s, "delay", &data, Some(imp))?;
    let needed = data.len().div_ceil(MAX_DATA) as u64 + 2;
    if got.repeats <= needed / 10 {
        return pass(format!(
            "{} came for the {needed} needed{tally}",
            crate::plural(got.packets, "packet")
        ));
    }
    let soonest = got.soonest_repeat.unwrap_or_default().as_secs_f64() * 1000.0;
    Err(Failure::new(
        format!(
            "at most {} sent again (this link loses nothing)",
            crate::plural(needed / 10, "packet")
        ),
        format!(
            "{} came again for the {needed} the file needs; the soonest was stamped {soonest:.1} ms after its first copy, while a round trip takes {} ms here",
            crate::plural(got.repeats, "packet"),
            2 * DELAY.as_millis()
        ),
        "spurious retransmissions: your client's timeout runs out before the ACK can come back, and it resends packets that arrived — a fixed timeout shorter than the round trip, or the whole window resent at each expiry. Measure the round trip from the echoed timestamps and set the timeout from it (srtt + 4·rttvar, UNP 22.5), resend only the oldest unacknowledged packet, and double the timeout after each expiry",
    ))
}

/// Runs every rft client check.
pub fn check(s: &mut Session<'_>) {
    transfers(s, "rft-client", ", the client ends", upload);
    s.step(
        "rft-client.delay",
        Tag::Robustness,
        "100 KiB through a relay that delays every datagram 10 ms each way: few packets sent again (the timeout follows the round trip)",
        delay,
    );
    s.step(
        "rft-client.refused",
        Tag::Robustness,
        "an ERR to the REQ: the client ends with the message and a non-zero status",
        |s| {
            origin(s, "refused", b"data\n")?;
            let port = s.port()?;
            let sv = Dgram::bind(s, port, "S")?;
            let argv = s.argv(&[
                ("{host}", "127.0.0.1"),
                ("{port}", &port.to_string()),
                ("{local}", "orig-refused"),
                ("{remote}", "copy-refused"),
            ]);
            let mut prog = s.spawn(&argv)?;
            let (req, from) = sv.recv_from_program(&mut prog, s.t, "a REQ")?;
            let stamp = Packet::parse(&req).map(|p| p.stamp).unwrap_or(0);
            sv.send_to(
                &Packet::new(Kind::Err, 0, stamp, b"refused: labcheck says no").emit(),
                from,
                "ERR refused: labcheck says no",
            )?;
            match prog.wait_exit(s.t) {
                Some(st) if !st.success() && prog.said().contains("labcheck says no") => {
                    pass(prog.said())
                }
                Some(st) => Err(Failure::new(
                    "a non-zero status and the server's message",
                    format!("{}; {}", describe_status(st), prog.said()),
                    "an ERR ends the upload: print its message and exit(1)",
                )),
                None => Err(Failure::new(
                    "the client ends",
                    "still running",
                    "an ERR ends the upload: print its message and exit(1)",
                )),
            }
        },
    );
    s.step("rft-client.no-server", Tag::Robustness, "nothing at the server's port: the client ends with a message", |s| {
        origin(s, "alone", b"data\n")?;
        let port = s.port()?;
        let argv = s.argv(&[("{host}", "127.0.0.1"), ("{port}", &port.to_string()), ("{local}", "orig-alone"), ("{remote}", "copy-alone")]);
        let mut prog = s.spawn(&argv)?;
        match prog.wait_exit(Duration::from_secs(30)) {
            Some(st) if !st.success() => pass(prog.said()),
            Some(st) => Err(Failure::new("a non-zero status and a message", describe_status(st), "the upload failed: say so and exit(1)")),
            None => Err(Failure::new("the client gives up with a message", "still running after 30 s", "retransmit a limited number of times (rftclient: 12), or connect() the socket and take ECONNREFUSED (UNP 8.11)")),
        }
    });
}
