//! Arbitrary bytes through `EnvelopeDecoder` (v4 framing), with and without body compression,
//! fed in chunks. The decoder must never panic, never loop, and every envelope it returns must
//! be consistent with its header.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use scylla2_cql::frame::{Compression, EnvelopeDecoder, HEADER_SIZE, HeaderFlags};

const MAX_FRAME: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let compression = match control % 3 {
        0 => None,
        1 => Some(Compression::Lz4),
        _ => Some(Compression::Snappy),
    };
    let chunk = usize::from(control >> 2).max(1);
    let mut decoder = EnvelopeDecoder::new(MAX_FRAME).with_compression(compression);
    let mut buf = BytesMut::new();
    'feed: for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Some(envelope)) => {
                    let wire = HEADER_SIZE + envelope.header.length as usize;
                    assert_eq!(before - buf.len(), wire);
                    assert!(envelope.body.len() <= MAX_FRAME);
                    if !envelope.header.flags.contains(HeaderFlags::COMPRESSION) {
                        assert_eq!(envelope.body.len(), envelope.header.length as usize);
                    }
                }
                Ok(None) => {
                    assert_eq!(before, buf.len());
                    assert!(decoder.needed() > 0);
                    break;
                }
                Err(_) => break 'feed,
            }
        }
    }
});
