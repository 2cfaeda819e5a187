//! C's `char buf[N]` filled by `snprintf`: text formatted into a buffer on the stack.
//!
//! A `String` lives on the heap. Most of the time that costs nothing worth saying, but
//! a forked child is different: its heap is the parent's, shared page by page until one
//! of them writes, and the first `malloc` in the child writes to several of those pages
//! (the allocator's bookkeeping, the chunk itself), so the kernel copies each one first.
//! The lines a forking server's child formats for every client (the client's address,
//! the reply) therefore go into a [`StackText`], as UNP's C formats them into arrays:
//! `sock_ntop`'s static buffer, the handout's `char send_msg[256]`.

use std::fmt;
use std::ops::Deref;

/// Up to `N` bytes of text, held in the value itself (on the stack).
///
/// Written with `write!`. Where C's `snprintf` truncates silently, a write that does
/// not fit fails (`fmt::Error`): the pieces before the one that did not fit stay, and
/// a piece is never cut (the text stays UTF-8). Reads as a `&str`.
///
/// ```
/// use std::fmt::Write;
/// let mut text = unp::StackText::<32>::new();
/// write!(text, "New number generated: {}", 32).unwrap();
/// assert_eq!(text, "New number generated: 32");
/// let more = "more than fits";
/// assert!(write!(text, " and {more}").is_err());
/// assert_eq!(text, "New number generated: 32 and "); // the piece that did not fit is not there
/// ```
#[derive(Clone, Copy)]
pub struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    /// Empty text.
    pub const fn new() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    /// `args` formatted; `Err` if they take more than `N` bytes.
    pub fn format(args: fmt::Arguments<'_>) -> Result<Self, fmt::Error> {
        let mut text = StackText::new();
        fmt::write(&mut text, args)?;
        Ok(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended, so the bytes are UTF-8.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        StackText::new()
    }
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<const N: usize> Deref for StackText<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for StackText<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> fmt::Display for StackText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for StackText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq for StackText<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for StackText<N> {}

impl<const N: usize> PartialEq<str> for StackText<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<const N: usize> PartialEq<&str> for StackText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<const N: usize> From<StackText<N>> for String {
    fn from(text: StackText<N>) -> String {
        text.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn fills_to_the_last_byte_and_refuses_one_more() {
        let mut t = StackText::<4>::new();
        assert!(t.is_empty());
        write!(t, "ab").unwrap();
        write!(t, "cd").unwrap();
        assert_eq!(t, "abcd");
        assert!(write!(t, "e").is_err());
        assert_eq!(t.as_bytes(), b"abcd");
        // a character that would be cut in two is refused whole: still UTF-8
        let mut t = StackText::<3>::new();
        write!(t, "a").unwrap();
        assert!(write!(t, "€").is_err());
        assert_eq!(t, "a");
    }

    #[test]
    fn format_reads_like_the_string_it_replaces() {
        let t = StackText::<16>::format(format_args!("{}:{}", "127.0.0.1", 5)).unwrap();
        assert_eq!(t, "127.0.0.1:5");
        assert_eq!(format!("[{t:>12}]"), "[ 127.0.0.1:5]");
        assert_eq!(format!("{t:?}"), "\"127.0.0.1:5\"");
        assert_eq!(String::from(t), "127.0.0.1:5");
        assert!(StackText::<4>::format(format_args!("{}", 12345)).is_err());
    }
}
