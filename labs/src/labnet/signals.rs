//! Ctrl-C (SIGINT), SIGTERM and SIGHUP end the link: their handlers only set one flag
//! (signal-hook's, async-signal-safe), which the link's loop checks at least every
//! 100 ms; the loop then returns and the guard tears the network down.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Installs the handlers; the returned flag becomes true at the first of the signals.
pub fn stop_flag() -> unp::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| unp::Error::os("sigaction", e))?;
    }
    Ok(stop)
}
