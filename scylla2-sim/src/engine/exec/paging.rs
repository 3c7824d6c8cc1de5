//! The opaque paging state: the position of the last row returned (partition token and key,
//! encoded clustering key or "partition finished"), rows returned in that partition (for
//! PER PARTITION LIMIT) and in total (for LIMIT). Decoding untrusted bytes is bounds-checked.

use bytes::{Bytes, BytesMut};

/// Paging position: the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageState {
    /// Token of the partition.
    pub token: i64,
    /// Serialized partition key.
    pub key: Bytes,
    /// Encoded clustering key of the last row; None = the partition is finished.
    pub ck: Option<Vec<u8>>,
    /// Rows returned in that partition so far.
    pub in_partition: u32,
    /// Rows returned in total so far.
    pub total: u32,
}

/// Where a read stopped, lent from the data it read: made a [`PageState`] (which owns its
/// key) only when a page ends there, so that a point read copies nothing (a clone of the
/// stored key writes its reference count, a cache miss per partition read).
#[derive(Debug, Clone, Copy)]
pub struct ReadPos<'a> {
    /// Token of the partition.
    pub token: i64,
    /// Serialized partition key.
    pub key: &'a Bytes,
    /// Encoded clustering key of the last row; None = the partition is finished.
    pub ck: Option<&'a [u8]>,
    /// Rows returned in that partition so far.
    pub in_partition: u32,
    /// Rows returned in total so far.
    pub total: u32,
}

impl<'a> ReadPos<'a> {
    /// The position after a partition that yielded one row without clustering (its static
    /// or DISTINCT row).
    pub fn partition_done(token: i64, key: &'a Bytes, total: u32) -> Self {
        Self {
            token,
            key,
            ck: None,
            in_partition: 1,
            total,
        }
    }

    /// The paging state that resumes after this position.
    pub fn state(&self) -> PageState {
        PageState {
            token: self.token,
            key: self.key.clone(),
            ck: self.ck.map(<[u8]>::to_vec),
            in_partition: self.in_partition,
            total: self.total,
        }
    }
}

impl PageState {
    /// The opaque bytes.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(32 + self.key.len());
        b.extend_from_slice(&[1]);
        b.extend_from_slice(&self.token.to_be_bytes());
        b.extend_from_slice(&(self.key.len() as u32).to_be_bytes());
        b.extend_from_slice(&self.key);
        match &self.ck {
            Some(ck) => {
                b.extend_from_slice(&[1]);
                b.extend_from_slice(&(ck.len() as u32).to_be_bytes());
                b.extend_from_slice(ck);
            }
            None => b.extend_from_slice(&[0]),
        }
        b.extend_from_slice(&self.in_partition.to_be_bytes());
        b.extend_from_slice(&self.total.to_be_bytes());
        b.freeze()
    }

    /// Parses bytes from a client (None when malformed).
    pub fn decode(b: &Bytes) -> Option<Self> {
        let mut pos = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = b.get(pos..pos.checked_add(n)?)?;
            pos += n;
            Some(s)
        };
        if take(1)? != [1] {
            return None;
        }
        let token = i64::from_be_bytes(take(8)?.try_into().ok()?);
        let klen = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
        let key = Bytes::copy_from_slice(take(klen)?);
        let ck = match take(1)?[0] {
            1 => {
                let n = u32::from_be_bytes(take(4)?.try_into().ok()?) as usize;
                Some(take(n)?.to_vec())
            }
            0 => None,
            _ => return None,
        };
        let in_partition = u32::from_be_bytes(take(4)?.try_into().ok()?);
        let total = u32::from_be_bytes(take(4)?.try_into().ok()?);
        if pos != b.len() {
            return None;
        }
        Some(PageState {
            token,
            key,
            ck,
            in_partition,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let st = PageState {
            token: -5,
            key: Bytes::from_static(b"key"),
            ck: Some(vec![1, 2]),
            in_partition: 3,
            total: 9,
        };
        let enc = st.encode();
        assert_eq!(
            &enc[..9],
            &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]
        );
        assert_eq!(PageState::decode(&enc), Some(st.clone()));
        let done = PageState { ck: None, ..st };
        assert_eq!(PageState::decode(&done.encode()), Some(done));
        for cut in 0..enc.len() {
            assert_eq!(PageState::decode(&enc.slice(..cut)), None);
        }
        assert_eq!(
            PageState::decode(&Bytes::from_static(&[
                1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff
            ])),
            None
        );
        let mut extra = enc.to_vec();
        extra.push(0);
        assert_eq!(PageState::decode(&Bytes::from(extra)), None);
    }
}
