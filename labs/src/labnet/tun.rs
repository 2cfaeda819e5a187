//! A TUN device opened inside a namespace.
//!
//! A TUN device belongs to the network namespace of the thread that opened
//! `/dev/net/tun`. So a short-lived thread enters the namespace with `setns(2)` (which
//! changes only that thread), opens the device there, and hands the descriptor back; the
//! link then reads and writes it from the labnet process, outside both namespaces. The
//! device is not persistent: it disappears when the descriptor is closed, so even a
//! killed link leaves no TUN device behind.
//!
//! Each packet read or written starts with a `struct virtio_net_hdr` (`IFF_VNET_HDR`,
//! see [`super::offload`]). With `offload`, the device also tells its kernel it takes
//! TCP segments of up to 64 KB with their checksum left to do (`TUNSETOFFLOAD`), as a
//! network card with TSO does: the kernel then hands over one large segment where it
//! would send 45 of 1448 bytes.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::libc;
use nix::sched::{CloneFlags, setns};

use super::command::trace;
use super::offload;

/// `struct ifreq` as TUNSETIFF reads it: the name, then the flags (the union's rest
/// is padding here).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    pad: [u8; 22],
}

/// What `TUNSETOFFLOAD` asks for: checksums and TCP segmentation (IPv4 and IPv6) left to
/// the reader of the device.
const OFFLOADS: libc::c_uint = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;

/// Opens a TUN device called `dev` (IP packets after a virtio header) in the namespace
/// mounted at `/run/netns/NETNS`, taking large segments if `offload`; reads and writes
/// on it do not block.
pub fn open_in(netns: &str, dev: &str, offload: bool) -> unp::Result<File> {
    let offloads = match offload {
        true => ", ioctl(TUNSETOFFLOAD, TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6)",
        false => "",
    };
    trace(format_args!(
        "ip netns exec {netns}: open /dev/net/tun, \
         ioctl(TUNSETIFF, {dev}, IFF_TUN|IFF_NO_PI|IFF_VNET_HDR){offloads}"
    ));
    let path = format!("/run/netns/{netns}");
    let dev = dev.to_string();
    std::thread::scope(|s| {
        s.spawn(move || {
            let ns = File::open(&path).map_err(|e| unp::Error::os("open", e).with_detail(path))?;
            // Only this thread moves into the namespace; it ends right after.
            setns(&ns, CloneFlags::CLONE_NEWNET)
                .map_err(|e| unp::Error::errno("setns", e).with_detail(netns.to_string()))?;
            open_tun(&dev, offload)
        })
        .join()
        .unwrap_or_else(|_| {
            Err(unp::Error::msg(
                "the thread opening the TUN device panicked",
            ))
        })
    })
}

fn open_tun(dev: &str, offload: bool) -> unp::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/net/tun")
        .map_err(|e| {
            unp::Error::os("open", e).with_detail("/dev/net/tun (modprobe tun; need root)")
        })?;
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: (libc::IFF_TUN | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short,
        pad: [0; 22],
    };
    let n = dev.len().min(libc::IFNAMSIZ - 1);
    req.name[..n].copy_from_slice(&dev.as_bytes()[..n]);
    // SAFETY: TUNSETIFF reads and writes a `struct ifreq`, which `IfReq` lays out
    // (40 bytes); the descriptor is open for the call's duration.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) };
    if rc < 0 {
        return Err(unp::Error::last_os("ioctl TUNSETIFF").with_detail(dev.to_string()));
    }
    let hdr_len = offload::HDR_LEN as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads an int; TUNSETOFFLOAD below takes its flags by value.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETVNETHDRSZ, &hdr_len) };
    if rc < 0 {
        return Err(unp::Error::last_os("ioctl TUNSETVNETHDRSZ").with_detail(dev.to_string()));
    }
    // SAFETY: as above.
    if offload && unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETOFFLOAD, OFFLOADS) } < 0 {
        // Not fatal: the kernel then cuts its segments itself, as without offload.
        unp::err_msg(format!(
            "ioctl TUNSETOFFLOAD error: {dev}: {}: no large segments on this link (slower)",
            std::io::Error::last_os_error()
        ));
    }
    Ok(file)
}
