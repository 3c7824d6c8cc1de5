//! Copies of short byte strings into `Bytes` with their reference count in the same
//! allocation: one allocation per copy, and clones or slices of it only count references.
//! A plain `Bytes::copy_from_slice` allocates its buffer, then once more (its shared state)
//! at its first clone or slice.

use bytes::Bytes;

/// Up to `N` bytes, owned by the `Bytes` made of them.
struct Inline<const N: usize> {
    len: u16,
    bytes: [u8; N],
}

impl<const N: usize> AsRef<[u8]> for Inline<N> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// `v` (at most `N` bytes, `N` below 65 536) in one allocation with its reference count.
fn inline<const N: usize>(v: &[u8]) -> Bytes {
    let mut bytes = [0; N];
    bytes[..v.len()].copy_from_slice(v);
    Bytes::from_owner(Inline {
        len: v.len() as u16,
        bytes,
    })
}

/// The longest copy [`shared_copy`] keeps beside its reference count.
pub(crate) const SHARED_INLINE_MAX: usize = 256;

/// A copy of `v` whose clones and slices allocate nothing: up to [`SHARED_INLINE_MAX`] bytes
/// in one allocation with the reference count (in a class of 64, 128 or 256 bytes: at most
/// twice the room a short copy needs, for copies that live as long as a request), longer ones
/// as a vector made shared at once (two allocations, as a first clone of a plain copy makes).
pub(crate) fn shared_copy(v: &[u8]) -> Bytes {
    match v.len() {
        0..=64 => inline::<64>(v),
        65..=128 => inline::<128>(v),
        129..=SHARED_INLINE_MAX => inline::<SHARED_INLINE_MAX>(v),
        _ => Bytes::from_owner(v.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length keeps its bytes through clones and slices, on both sides of each class.
    #[test]
    fn copies_keep_their_bytes() {
        for n in [0, 1, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000] {
            let v: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let b = shared_copy(&v);
            assert_eq!(&b[..], &v[..], "{n} bytes");
            let c = b.clone();
            drop(b);
            assert_eq!(&c[..], &v[..], "{n} bytes, clone");
            if n > 2 {
                assert_eq!(&c.slice(1..n - 1)[..], &v[1..n - 1], "{n} bytes, slice");
            }
        }
    }
}
