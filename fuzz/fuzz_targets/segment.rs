//! v5 segments: (a) arbitrary bytes through `SegmentDecoder`, uncompressed and lz4 formats,
//! fed in chunks: no panic, no loop, consistent envelopes; (b) a round trip: the input cut into
//! envelopes, packed/split by `encode_envelopes`, decoded back identically.
#![no_main]

use bytes::{BufMut, BytesMut};
use libfuzzer_sys::fuzz_target;
use scylla2_cql::frame::{
    HEADER_SIZE, MAX_SEGMENT_PAYLOAD, SegmentDecoder, SegmentFormat, encode_envelopes,
};

const MAX_FRAME: usize = 1 << 20;

fn drain(
    decoder: &mut SegmentDecoder,
    input: &[u8],
    chunk: usize,
    mut each: impl FnMut(scylla2_cql::frame::Envelope),
) -> bool {
    let mut buf = BytesMut::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Some(envelope)) => {
                    assert_eq!(envelope.body.len(), envelope.header.length as usize);
                    assert!(HEADER_SIZE + envelope.body.len() <= MAX_FRAME);
                    each(envelope);
                }
                Ok(None) => {
                    assert!(buf.len() <= before);
                    assert!(decoder.needed() > 0);
                    break;
                }
                Err(_) => return false,
            }
        }
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let format = if control & 1 == 0 {
        SegmentFormat::Uncompressed
    } else {
        SegmentFormat::Lz4
    };
    let chunk = usize::from(control >> 3).max(1);
    if control & 2 == 0 {
        let mut decoder = SegmentDecoder::new(format, MAX_FRAME);
        drain(&mut decoder, input, chunk, |_| {});
        return;
    }
    // Round trip: each input byte b starts an envelope whose body is the next (b * 37) bytes
    // (repeated to reach larger sizes), so some envelopes exceed one segment.
    let mut envelopes = BytesMut::new();
    let mut expected = Vec::new();
    let mut rest = input;
    let mut stream = 0i16;
    while let Some((&b, tail)) = rest.split_first() {
        let len = usize::from(b) * if control & 4 == 0 { 37 } else { 1100 };
        let take = tail.len().min(usize::from(b));
        let body: Vec<u8> = tail[..take].iter().copied().cycle().take(len).collect();
        let body = if take == 0 { vec![b; len] } else { body };
        rest = &tail[take..];
        envelopes.put_slice(&[0x85, 0, 0, 0, 0x08]);
        envelopes[envelopes.len() - 3..envelopes.len() - 1].copy_from_slice(&stream.to_be_bytes());
        envelopes.put_u32(body.len() as u32);
        envelopes.put_slice(&body);
        expected.push((stream, body));
        stream = stream.wrapping_add(1);
    }
    let mut wire = BytesMut::new();
    encode_envelopes(&envelopes, format, &mut wire).expect("whole envelopes encode");
    let segments_bound = 3 * (envelopes.len() / MAX_SEGMENT_PAYLOAD) + 3;
    assert!(wire.len() <= envelopes.len() + segments_bound * 12);
    let mut decoder = SegmentDecoder::new(format, MAX_FRAME);
    let mut got = Vec::new();
    assert!(drain(&mut decoder, &wire, chunk, |e| got
        .push((e.header.stream, e.body.to_vec()))));
    assert_eq!(got, expected);
    assert!(!decoder.in_split_envelope());
});
