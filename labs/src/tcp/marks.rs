//! The marks of the analysis, named as Wireshark's `tcp.analysis.*` flags, and sets of
//! them.

/// One mark of the analysis; [`Marks`] holds a set of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Mark {
    /// Bytes sent again after the retransmission timer ran out (`tcp.analysis.retransmission`).
    Retransmission = 1,
    /// Bytes sent again after duplicate ACKs (`tcp.analysis.fast_retransmission`).
    FastRetransmission = 1 << 1,
    /// Bytes sent again that the receiver had already acknowledged.
    SpuriousRetransmission = 1 << 2,
    /// Older bytes that arrived soon after newer ones (`tcp.analysis.out_of_order`).
    OutOfOrder = 1 << 3,
    /// Bytes before this segment are not in the capture (`tcp.analysis.lost_segment`).
    PreviousNotCaptured = 1 << 4,
    /// This ACK covers bytes the capture never showed (`tcp.analysis.ack_lost_segment`).
    AckedUnseen = 1 << 5,
    /// The same Ack and window again, no data (`tcp.analysis.duplicate_ack`).
    DuplicateAck = 1 << 6,
    /// The sender advertises a window of 0 (`tcp.analysis.zero_window`).
    ZeroWindow = 1 << 7,
    /// One byte into a zero window (`tcp.analysis.zero_window_probe`).
    ZeroWindowProbe = 1 << 8,
    /// The answer to a zero window probe (`tcp.analysis.zero_window_probe_ack`).
    ZeroWindowProbeAck = 1 << 9,
    /// Same Seq and Ack, a new window (`tcp.analysis.window_update`).
    WindowUpdate = 1 << 10,
    /// The data reaches the edge of the peer's window (`tcp.analysis.window_full`).
    WindowFull = 1 << 11,
    /// 0 or 1 byte one below the next Seq (`tcp.analysis.keep_alive`).
    KeepAlive = 1 << 12,
    /// The answer to a keep-alive (`tcp.analysis.keep_alive_ack`).
    KeepAliveAck = 1 << 13,
}

impl Mark {
    /// Every mark, in the order the notes list them.
    pub const ALL: [Mark; 14] = [
        Mark::Retransmission,
        Mark::FastRetransmission,
        Mark::SpuriousRetransmission,
        Mark::OutOfOrder,
        Mark::PreviousNotCaptured,
        Mark::AckedUnseen,
        Mark::DuplicateAck,
        Mark::ZeroWindow,
        Mark::ZeroWindowProbe,
        Mark::ZeroWindowProbeAck,
        Mark::WindowUpdate,
        Mark::WindowFull,
        Mark::KeepAlive,
        Mark::KeepAliveAck,
    ];

    /// The name of tshark's field for this mark, after `tcp.analysis.` (also the name
    /// labtrace's JSON uses).
    pub fn tshark(self) -> &'static str {
        match self {
            Mark::Retransmission => "retransmission",
            Mark::FastRetransmission => "fast_retransmission",
            Mark::SpuriousRetransmission => "spurious_retransmission",
            Mark::OutOfOrder => "out_of_order",
            Mark::PreviousNotCaptured => "lost_segment",
            Mark::AckedUnseen => "ack_lost_segment",
            Mark::DuplicateAck => "duplicate_ack",
            Mark::ZeroWindow => "zero_window",
            Mark::ZeroWindowProbe => "zero_window_probe",
            Mark::ZeroWindowProbeAck => "zero_window_probe_ack",
            Mark::WindowUpdate => "window_update",
            Mark::WindowFull => "window_full",
            Mark::KeepAlive => "keep_alive",
            Mark::KeepAliveAck => "keep_alive_ack",
        }
    }
}

/// A set of [`Mark`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks(u16);

impl Marks {
    /// True if `m` is in the set.
    pub fn has(self, m: Mark) -> bool {
        self.0 & m as u16 != 0
    }
    pub(super) fn set(&mut self, m: Mark) {
        self.0 |= m as u16;
    }
    pub(super) fn unset(&mut self, m: Mark) {
        self.0 &= !(m as u16);
    }
    /// The set with `from` replaced by `to`.
    pub(super) fn swap(mut self, from: Mark, to: Mark) -> Marks {
        self.unset(from);
        self.set(to);
        self
    }
    /// True if the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The marks in the set, in [`Mark::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Mark> {
        Mark::ALL.into_iter().filter(move |m| self.has(*m))
    }
}
