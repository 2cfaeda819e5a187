//! Ctrl-C for a receiving loop, as UNP's `recvfrom_int` does it: SIGINT's handler only
//! sets a flag (async-signal-safe), and it is installed without SA_RESTART (UNP's
//! `Signal_intr`), so a blocked `recvfrom` returns EINTR and the loop looks at the flag.
//! dgecholoop counts until Ctrl-C (its lesson); udpseqserver prints its summary at it.

use std::sync::atomic::{AtomicBool, Ordering};

use unp::Result;
use unp::signal::{SigHandler, Signal};

/// Set by [`on_sigint`]: the user pressed Ctrl-C.
static CAUGHT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: nix::libc::c_int) {
    CAUGHT.store(true, Ordering::SeqCst); // a flag, nothing else
}

/// Installs the handler: from now on SIGINT interrupts (EINTR) instead of killing.
pub fn catch() -> Result<()> {
    // SAFETY: the handler only stores to an atomic flag.
    unsafe { unp::signal::signal_intr(Signal::SIGINT, SigHandler::Handler(on_sigint)) }?;
    Ok(())
}

/// True once Ctrl-C was pressed (after [`catch`]).
pub fn caught() -> bool {
    CAUGHT.load(Ordering::SeqCst)
}
