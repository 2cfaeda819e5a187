//! A session: build the network, run the link in its own thread while something else
//! happens (waiting for Ctrl-C in `labnet up`, a scenario in `labnet run`), stop the
//! link, tear down. The order of the values below is the order of teardown: the link
//! (which closes the TUN devices and flushes the capture) ends before the [`Network`]
//! guard removes the namespaces.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};

use super::impair::{Impairments, PerDirection};
use super::link::{Link, LinkStats};
use super::names::Names;
use super::netns::Network;
use super::tap::{CaptureMode, Tap};

/// How the link is set up.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// The impairments of each direction.
    pub impairments: PerDirection<Impairments>,
    /// Seed of the random draws (loss, jitter, ...); `None`: from the OS.
    pub seed: Option<u64>,
    /// Where the capture of the link goes.
    pub pcap: PathBuf,
    /// What is captured: what the hosts sent, what the link delivered, or both.
    pub capture: CaptureMode,
    /// How many bytes of each packet the capture keeps.
    pub snaplen: u32,
}

/// Sets its flag when dropped: the link thread's way of saying it ended, also by a panic.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Builds network `names`, runs `during` while the link carries packets, then lets the
/// link go quiet, stops it and tears everything down, whatever happened. `stop` (set by
/// a signal) ends the link; `during` gets a flag that says the link has ended (after
/// `stop`, an error or a panic), so that it gives up.
pub fn with_network<T>(
    names: &Names,
    opts: &LinkOptions,
    stop: &AtomicBool,
    during: impl FnOnce(&Names, &AtomicBool) -> unp::Result<T> + Send,
) -> unp::Result<(T, LinkStats)> {
    // Large segments cross whole where nothing is done to single packets.
    let imp = &opts.impairments;
    let offload = PerDirection {
        to_server: !imp.to_server.acts_per_packet(),
        to_client: !imp.to_client.acts_per_packet(),
    };
    let (net, (client, server)) = Network::up(names, offload)?;
    let tap = Tap::create(&opts.pcap, opts.capture, opts.snaplen)?;
    let rng = match opts.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::try_from_rng(&mut SysRng)
            .map_err(|e| unp::Error::msg(format!("getrandom error: {e}")))?,
    };
    let mut link = Link::new(client, server, opts.impairments, tap, rng)?;
    let finish = AtomicBool::new(false);
    let ended = AtomicBool::new(false);
    let (result, linked) = std::thread::scope(|s| {
        let carrier = s.spawn(|| {
            let _tell = SetOnDrop(&ended);
            link.run(stop, &finish)
        });
        // Packets still in flight (the close's last ACK) cross before the link stops,
        // which it does when `during` returns, or panics: the scope waits for the link
        // thread, and a link told nothing would keep the panic (and the teardown after
        // it) waiting forever.
        let finishing = SetOnDrop(&finish);
        let result = during(net.names(), &ended);
        drop(finishing);
        (result, carrier.join())
    });
    let stats = link.stats();
    drop(link);
    drop(net);
    match linked {
        Err(_) => Err(unp::Error::msg(
            "the link panicked; the network is torn down",
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => result.map(|t| (t, stats)),
    }
}
