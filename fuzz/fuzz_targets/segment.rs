//! v5 segments through `SegmentDecoder`, uncompressed and lz4 formats, fed in chunks. The
//! first input byte picks the format (bit 0), the mode (bits 1-2), large envelopes (bit 3, in
//! mode 3) and the chunk size (bits 4-7). Modes: (0) arbitrary bytes: no panic, no loop,
//! consistent envelopes; (1) arbitrary payloads wrapped in segments with valid CRCs, so that
//! the payload handling sees garbage; (2, 3) a round trip: the input cut into envelopes,
//! packed/split by `encode_envelopes`, decoded back identically.
#![no_main]

use bytes::{BufMut, BytesMut};
use libfuzzer_sys::fuzz_target;
use scylla2_cql::frame::{
    HEADER_SIZE, MAX_SEGMENT_PAYLOAD, SegmentDecoder, SegmentFormat, encode_envelopes, lz4_header,
    trailer, uncompressed_header,
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

/// Cuts `input` into segments: per segment one flags byte (bit 0 self-contained), two bytes
/// of claimed uncompressed length (lz4 format), one length byte, then that many payload bytes.
fn valid_crc_segments(format: SegmentFormat, mut input: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    while let [flags, u0, u1, len, rest @ ..] = input {
        let len = usize::from(*len).min(rest.len());
        let (payload, tail) = rest.split_at(len);
        input = tail;
        let self_contained = flags & 1 != 0;
        match format {
            SegmentFormat::Lz4 => {
                let uncompressed = usize::from(u16::from_le_bytes([*u0, *u1]));
                wire.extend_from_slice(&lz4_header(len, uncompressed, self_contained).unwrap());
            }
            _ => wire.extend_from_slice(&uncompressed_header(len, self_contained).unwrap()),
        }
        wire.extend_from_slice(payload);
        wire.extend_from_slice(&trailer(payload));
    }
    wire
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
    let chunk = usize::from(control >> 4).max(1);
    match (control >> 1) & 3 {
        0 => {
            let mut decoder = SegmentDecoder::new(format, MAX_FRAME);
            drain(&mut decoder, input, chunk, |_| {});
            return;
        }
        1 => {
            // Arbitrary payloads and header fields wrapped with valid CRCs, so that the
            // payload handling (lz4, envelope parsing, reassembly) sees garbage.
            let wire = valid_crc_segments(format, input);
            let mut decoder = SegmentDecoder::new(format, MAX_FRAME);
            drain(&mut decoder, &wire, chunk, |_| {});
            return;
        }
        _ => {}
    }
    // Round trip: each input byte b starts an envelope whose body is the next b bytes,
    // repeated up to b * 37 (or b * 1100) bytes so that some envelopes span several segments;
    // at most ~150 KB of envelopes per input to keep executions fast.
    let mut envelopes = BytesMut::new();
    let mut expected = Vec::new();
    let mut rest = input;
    let mut stream = 0i16;
    while let Some((&b, tail)) = rest.split_first() {
        let scale = if control & 0x0C == 0x0C { 1100 } else { 37 };
        let len = usize::from(b) * scale;
        if envelopes.len() + len > 150_000 {
            break;
        }
        let take = tail.len().min(usize::from(b));
        let body: Vec<u8> = if take == 0 {
            vec![b; len]
        } else {
            tail[..take].iter().copied().cycle().take(len).collect()
        };
        rest = &tail[take..];
        envelopes.put_slice(&[0x85, 0]);
        envelopes.put_i16(stream);
        envelopes.put_u8(0x08);
        envelopes.put_u32(body.len() as u32);
        envelopes.put_slice(&body);
        expected.push((stream, body));
        stream = stream.wrapping_add(1);
    }
    let mut wire = BytesMut::new();
    encode_envelopes(&envelopes, format, &mut wire).expect("whole envelopes encode");
    let segments_bound = 3 * (envelopes.len() / MAX_SEGMENT_PAYLOAD) + 3;
    assert!(wire.len() <= envelopes.len() + segments_bound * 12);
    // Byte-sized chunks over hundreds of KB are slow; scale the chunk with the wire size.
    let chunk = chunk * (wire.len() / 4096).max(1);
    let mut decoder = SegmentDecoder::new(format, MAX_FRAME);
    let mut got = Vec::new();
    assert!(drain(&mut decoder, &wire, chunk, |e| got
        .push((e.header.stream, e.body.to_vec()))));
    assert_eq!(got, expected);
    assert!(!decoder.in_split_envelope());
});
