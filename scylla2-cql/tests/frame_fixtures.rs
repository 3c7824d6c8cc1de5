//! Every captured Cassandra v4 response frame (tests/fixtures/cassandra-v4) through
//! `EnvelopeDecoder`: header fields as the manifest records them, exact consumption, chunked
//! feeding, and the lz4/snappy captures decompressing to the uncompressed capture's body.

use bytes::{Bytes, BytesMut};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    Compression, EnvelopeDecoder, FrameError, HEADER_SIZE, HeaderFlags, Opcode,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cassandra-v4/");

/// The `response` section of each manifest.json entry (generated from the manifest with a
/// python one-liner; `check_table_against_manifest` re-checks it against the file).
struct Fixture {
    file: &'static str,
    compression: Option<Compression>,
    version_byte: u8,
    flags: u8,
    stream: i16,
    opcode: u8,
    length: u32,
    frame_bytes: usize,
    body_length: usize,
}

#[rustfmt::skip]
const FIXTURES: &[Fixture] = &[
    Fixture { file: "005-options-supported.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 1, opcode: 0x06, length: 96, frame_bytes: 105, body_length: 96 },
    Fixture { file: "006-startup-ready.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 2, opcode: 0x02, length: 0, frame_bytes: 9, body_length: 0 },
    Fixture { file: "007-register-ready.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 3, opcode: 0x02, length: 0, frame_bytes: 9, body_length: 0 },
    Fixture { file: "009-create-keyspace.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 5, opcode: 0x08, length: 34, frame_bytes: 43, body_length: 34 },
    Fixture { file: "010-create-keyspace-event1.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: -1, opcode: 0x0c, length: 45, frame_bytes: 54, body_length: 45 },
    Fixture { file: "011-use-keyspace.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 32767, opcode: 0x08, length: 15, frame_bytes: 24, body_length: 15 },
    Fixture { file: "012-create-type-addr.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 6, opcode: 0x08, length: 36, frame_bytes: 45, body_length: 36 },
    Fixture { file: "016-create-table-all-types.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 8, opcode: 0x08, length: 42, frame_bytes: 51, body_length: 42 },
    Fixture { file: "017-create-table-all-types-event1.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: -1, opcode: 0x0c, length: 53, frame_bytes: 62, body_length: 53 },
    Fixture { file: "018-insert-all-types-row1.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 9, opcode: 0x08, length: 4, frame_bytes: 13, body_length: 4 },
    Fixture { file: "025-select-all-types.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 16, opcode: 0x08, length: 3860, frame_bytes: 3869, body_length: 3860 },
    Fixture { file: "026-select-all-types-page1.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 17, opcode: 0x08, length: 2155, frame_bytes: 2164, body_length: 2155 },
    Fixture { file: "031-select-empty-result.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 22, opcode: 0x08, length: 54, frame_bytes: 63, body_length: 54 },
    Fixture { file: "039-create-table-events.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 29, opcode: 0x08, length: 39, frame_bytes: 48, body_length: 39 },
    Fixture { file: "041-prepare-insert-events.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 30, opcode: 0x08, length: 135, frame_bytes: 144, body_length: 135 },
    Fixture { file: "042-prepare-select-events.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 31, opcode: 0x08, length: 174, frame_bytes: 183, body_length: 174 },
    Fixture { file: "043-execute-insert-events-0.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 32, opcode: 0x08, length: 4, frame_bytes: 13, body_length: 4 },
    Fixture { file: "050-execute-select-events-skip-metadata.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 39, opcode: 0x08, length: 539, frame_bytes: 548, body_length: 539 },
    Fixture { file: "051-execute-select-events-with-metadata.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 40, opcode: 0x08, length: 628, frame_bytes: 637, body_length: 628 },
    Fixture { file: "052-execute-select-events-page1.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 41, opcode: 0x08, length: 239, frame_bytes: 248, body_length: 239 },
    Fixture { file: "053-execute-select-events-page2.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 42, opcode: 0x08, length: 222, frame_bytes: 231, body_length: 222 },
    Fixture { file: "056-err-unprepared.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 45, opcode: 0x00, length: 261, frame_bytes: 270, body_length: 261 },
    Fixture { file: "066-lwt-insert-applied.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 54, opcode: 0x08, length: 49, frame_bytes: 58, body_length: 49 },
    Fixture { file: "067-lwt-insert-not-applied.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 55, opcode: 0x08, length: 75, frame_bytes: 84, body_length: 75 },
    Fixture { file: "070-select-traced.bin", compression: None, version_byte: 0x84, flags: 0x02, stream: 58, opcode: 0x08, length: 73, frame_bytes: 82, body_length: 73 },
    Fixture { file: "074-batch-unlogged-warning.bin", compression: None, version_byte: 0x84, flags: 0x08, stream: 61, opcode: 0x08, length: 174, frame_bytes: 183, body_length: 174 },
    Fixture { file: "086-err-syntax.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 73, opcode: 0x00, length: 66, frame_bytes: 75, body_length: 66 },
    Fixture { file: "087-err-invalid-unknown-table.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 74, opcode: 0x00, length: 40, frame_bytes: 49, body_length: 40 },
    Fixture { file: "092-err-already-exists-table.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 79, opcode: 0x00, length: 97, frame_bytes: 106, body_length: 97 },
    Fixture { file: "101-err-unavailable-write-all.bin", compression: None, version_byte: 0x84, flags: 0x00, stream: 86, opcode: 0x00, length: 52, frame_bytes: 61, body_length: 52 },
    Fixture { file: "118-lz4-select-all-types.bin", compression: Some(Compression::Lz4), version_byte: 0x84, flags: 0x01, stream: 4, opcode: 0x08, length: 2322, frame_bytes: 2331, body_length: 3860 },
    Fixture { file: "136-snappy-select-all-types.bin", compression: Some(Compression::Snappy), version_byte: 0x84, flags: 0x01, stream: 4, opcode: 0x08, length: 2092, frame_bytes: 2101, body_length: 3860 },
];

fn read(file: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{file}")).unwrap()
}

fn decoder_for(f: &Fixture) -> EnvelopeDecoder {
    EnvelopeDecoder::default().with_compression(f.compression)
}

#[test]
fn check_table_against_manifest() {
    let manifest = std::fs::read_to_string(format!("{DIR}manifest.json")).unwrap();
    assert_eq!(manifest.matches("\"file\": ").count(), FIXTURES.len());
    for f in FIXTURES {
        let at = manifest
            .find(&format!("\"file\": \"{}\"", f.file))
            .unwrap_or_else(|| panic!("{} not in manifest", f.file));
        let entry = &manifest[at..];
        let response = &entry[entry.find("\"response\": {").unwrap()..];
        let response = &response[..response.find('}').unwrap()];
        for needle in [
            format!("\"version_byte\": \"{:#04x}\"", f.version_byte),
            format!("\"opcode\": \"{:#04x}\"", f.opcode),
            format!("\"stream\": {},", f.stream),
            format!("\"header_flags\": \"{:#04x}\"", f.flags),
            format!("\"length_field\": {},", f.length),
            format!("\"frame_bytes\": {}", f.frame_bytes),
        ] {
            assert!(
                response.contains(&needle),
                "{}: {needle} in {response}",
                f.file
            );
        }
        let decoded = &entry[entry.find("\"decoded\": {").unwrap()..];
        let key = "\"body_length\": ";
        let value = &decoded[decoded.find(key).unwrap() + key.len()..];
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(digits, f.body_length.to_string(), "{}", f.file);
    }
}

#[test]
fn every_fixture_decodes_to_its_manifest_header() {
    for f in FIXTURES {
        let bytes = read(f.file);
        assert_eq!(bytes.len(), f.frame_bytes, "{}", f.file);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut decoder = decoder_for(f);
        let env = decoder.decode(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty(), "{}", f.file);
        let h = env.header;
        assert_eq!(h.version, ProtocolVersion::V4, "{}", f.file);
        assert!(h.is_response);
        assert_eq!(h.flags, HeaderFlags(f.flags), "{}", f.file);
        assert_eq!(h.stream, f.stream, "{}", f.file);
        assert_eq!(h.opcode, Opcode::from_u8(f.opcode).unwrap(), "{}", f.file);
        assert_eq!(h.length, f.length, "{}", f.file);
        assert_eq!(env.body.len(), f.body_length, "{}", f.file);
        if f.compression.is_none() {
            assert_eq!(&env.body[..], &bytes[HEADER_SIZE..], "{}", f.file);
        }
        assert_eq!(decoder.decode(&mut buf), Ok(None));
    }
}

#[test]
fn all_fixtures_back_to_back_one_byte_at_a_time() {
    let plain: Vec<&Fixture> = FIXTURES
        .iter()
        .filter(|f| f.compression.is_none())
        .collect();
    let stream: Vec<u8> = plain.iter().flat_map(|f| read(f.file)).collect();
    let mut decoder = EnvelopeDecoder::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in &stream {
        buf.extend_from_slice(&[b]);
        while let Some(env) = decoder.decode(&mut buf).unwrap() {
            got.push(env);
        }
        assert!(decoder.needed() >= 1);
    }
    assert!(buf.is_empty());
    assert_eq!(got.len(), plain.len());
    for (env, f) in got.iter().zip(&plain) {
        assert_eq!(env.header.stream, f.stream);
        assert_eq!(env.body.len(), f.body_length);
    }
}

#[test]
fn uncompressed_body_is_a_slice_of_the_read_buffer() {
    let bytes = read("025-select-all-types.bin");
    let mut buf = BytesMut::from(&bytes[..]);
    let start = buf.as_ptr() as usize;
    let env = EnvelopeDecoder::default()
        .decode(&mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(env.body.as_ptr() as usize, start + HEADER_SIZE);
}

#[test]
fn lz4_and_snappy_captures_decompress_to_the_plain_body() {
    // The manifest says both are "same content as select-all-types" with body_length 3860;
    // check that the decompressed bytes are in fact identical to 025's body.
    let plain = Bytes::from(read("025-select-all-types.bin")).slice(HEADER_SIZE..);
    for (file, compression) in [
        ("118-lz4-select-all-types.bin", Compression::Lz4),
        ("136-snappy-select-all-types.bin", Compression::Snappy),
    ] {
        let bytes = read(file);
        let body = &bytes[HEADER_SIZE..];
        assert_eq!(compression.decompressed_len(body).unwrap(), 3860);
        assert_eq!(compression.decompress(body, 3860).unwrap(), plain, "{file}");
        assert!(compression.decompress(body, 3859).is_err());
        // Through the decoder, fed in 7-byte chunks.
        let mut decoder = EnvelopeDecoder::default().with_compression(Some(compression));
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in bytes.chunks(7) {
            buf.extend_from_slice(chunk);
            if let Some(env) = decoder.decode(&mut buf).unwrap() {
                got = Some(env);
            }
        }
        let env = got.unwrap();
        assert_eq!(env.body, plain);
        assert!(env.header.flags.contains(HeaderFlags::COMPRESSION));
        // Without the negotiated compression the flag is an error.
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(
            EnvelopeDecoder::default().decode(&mut buf),
            Err(FrameError::UnexpectedCompression)
        );
        // Our compressor's output decodes to the same body too.
        let mut ours = BytesMut::new();
        compression.compress(&plain, &mut ours).unwrap();
        assert_eq!(compression.decompress(&ours, 3860).unwrap(), plain);
    }
}

#[test]
fn compressed_ready_as_real_servers_send_it() {
    // Manifest note: on compressed connections READY is compressed: lz4 `00000000 00`,
    // snappy `00`.
    for (compression, body) in [
        (Compression::Lz4, &[0u8, 0, 0, 0, 0][..]),
        (Compression::Snappy, &[0u8][..]),
    ] {
        let mut frame = vec![0x84, 0x01, 0x00, 0x02, 0x02, 0, 0, 0, body.len() as u8];
        frame.extend_from_slice(body);
        let mut buf = BytesMut::from(&frame[..]);
        let env = EnvelopeDecoder::default()
            .with_compression(Some(compression))
            .decode(&mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(env.header.opcode, Opcode::Ready);
        assert!(env.body.is_empty());
    }
}
