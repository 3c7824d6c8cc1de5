//! A raw-frame CQL client for the simulator's protocol tests (hand-written bytes, no driver).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use cassandra_protocol::compression::Compression;
use cassandra_protocol::crc::{crc24, crc32};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const OPTIONS: u8 = 0x05;
pub const STARTUP: u8 = 0x01;
pub const QUERY: u8 = 0x07;
pub const REGISTER: u8 = 0x0B;
pub const AUTH_RESPONSE: u8 = 0x0F;
pub const ERROR: u8 = 0x00;
pub const READY: u8 = 0x02;
pub const AUTHENTICATE: u8 = 0x03;
pub const SUPPORTED: u8 = 0x06;
pub const RESULT: u8 = 0x08;
pub const EVENT: u8 = 0x0C;
pub const AUTH_SUCCESS: u8 = 0x10;

/// A response envelope.
#[derive(Debug)]
pub struct Frame {
    pub version: u8,
    pub flags: u8,
    pub stream: i16,
    pub opcode: u8,
    pub body: Vec<u8>,
}

impl Frame {
    /// Error code and message of an ERROR body.
    pub fn error(&self) -> (i32, String) {
        assert_eq!(self.opcode, ERROR, "not an error: {self:?}");
        let code = i32::from_be_bytes(self.body[..4].try_into().unwrap());
        let n = u16::from_be_bytes([self.body[4], self.body[5]]) as usize;
        (
            code,
            String::from_utf8_lossy(&self.body[6..6 + n]).into_owned(),
        )
    }

    /// A SUPPORTED body as (key, values).
    pub fn multimap(&self) -> Vec<(String, Vec<String>)> {
        let b = &self.body;
        let mut p = 0;
        let short = |p: &mut usize| {
            let v = u16::from_be_bytes([b[*p], b[*p + 1]]) as usize;
            *p += 2;
            v
        };
        let string = |p: &mut usize| {
            let n = short(p);
            let s = String::from_utf8_lossy(&b[*p..*p + n]).into_owned();
            *p += n;
            s
        };
        let mut out = Vec::new();
        for _ in 0..short(&mut p) {
            let k = string(&mut p);
            let mut vs = Vec::new();
            for _ in 0..short(&mut p) {
                vs.push(string(&mut p));
            }
            out.push((k, vs));
        }
        out
    }
}

pub fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

pub fn string_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut b = (pairs.len() as u16).to_be_bytes().to_vec();
    for (k, v) in pairs {
        string(&mut b, k);
        string(&mut b, v);
    }
    b
}

pub fn query_body(q: &str) -> Vec<u8> {
    let mut b = (q.len() as i32).to_be_bytes().to_vec();
    b.extend_from_slice(q.as_bytes());
    b.extend_from_slice(&[0, 1, 0]); // ONE, no flags (v4)
    b
}

pub fn envelope(version: u8, flags: u8, stream: i16, opcode: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![version, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.push(opcode);
    v.extend_from_slice(&(body.len() as i32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// One self-contained v5 segment around `payload` (uncompressed or lz4).
pub fn segment(payload: &[u8], lz4: bool) -> Vec<u8> {
    if lz4 {
        let c = lz4_flex::block::compress(payload);
        let h: u64 = c.len() as u64 | ((payload.len() as u64) << 17) | (1 << 34);
        let hb = h.to_le_bytes();
        let mut v = hb[..5].to_vec();
        v.extend_from_slice(&(crc24(&hb[..5]) as u32).to_le_bytes()[..3]);
        v.extend_from_slice(&c);
        v.extend_from_slice(&crc32(&c).to_le_bytes());
        v
    } else {
        let h: u32 = payload.len() as u32 | (1 << 17);
        let hb = h.to_le_bytes();
        let mut v = hb[..3].to_vec();
        v.extend_from_slice(&(crc24(&hb[..3]) as u32).to_le_bytes()[..3]);
        v.extend_from_slice(payload);
        v.extend_from_slice(&crc32(payload).to_le_bytes());
        v
    }
}

pub struct Client {
    pub stream: TcpStream,
    pub version: u8,
    pub framed: bool,
    pub lz4: bool,
    pub compression: Compression,
    buf: Vec<u8>,
    pending: std::collections::VecDeque<Frame>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, version: u8) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            version,
            framed: false,
            lz4: false,
            compression: Compression::None,
            buf: Vec::new(),
            pending: Default::default(),
        }
    }

    pub fn connect_stream(stream: TcpStream, version: u8) -> Client {
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            version,
            framed: false,
            lz4: false,
            compression: Compression::None,
            buf: Vec::new(),
            pending: Default::default(),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    pub async fn send(&mut self, stream: i16, opcode: u8, body: &[u8]) {
        self.send_flags(0, stream, opcode, body).await;
    }

    pub async fn send_flags(&mut self, flags: u8, stream: i16, opcode: u8, body: &[u8]) {
        let (flags, body) = if self.compression.is_compressed() && !self.framed && opcode != STARTUP
        {
            (flags | 1, self.compression.encode(body).unwrap())
        } else {
            (flags, body.to_vec())
        };
        let env = envelope(self.version, flags, stream, opcode, &body);
        let bytes = if self.framed {
            segment(&env, self.lz4)
        } else {
            env
        };
        self.send_raw(&bytes).await;
    }

    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            let mut tmp = vec![0u8; 65536];
            match tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut tmp)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return false,
                Ok(Ok(k)) => self.buf.extend_from_slice(&tmp[..k]),
                Err(_) => panic!("timed out waiting for the server"),
            }
        }
        true
    }

    /// Reads the next envelope; None when the server closed the connection.
    pub async fn recv(&mut self) -> Option<Frame> {
        if let Some(f) = self.pending.pop_front() {
            return Some(f);
        }
        if self.framed {
            self.recv_framed().await
        } else {
            if !self.fill(9).await {
                return None;
            }
            let len = i32::from_be_bytes(self.buf[5..9].try_into().unwrap()) as usize;
            if !self.fill(9 + len).await {
                return None;
            }
            let env: Vec<u8> = self.buf.drain(..9 + len).collect();
            Some(self.parse(&env))
        }
    }

    fn parse(&self, env: &[u8]) -> Frame {
        let mut body = env[9..].to_vec();
        if env[1] & 1 != 0 && !self.framed {
            body = self.compression.decode(body).unwrap();
        }
        Frame {
            version: env[0],
            flags: env[1],
            stream: i16::from_be_bytes([env[2], env[3]]),
            opcode: env[4],
            body,
        }
    }

    async fn recv_framed(&mut self) -> Option<Frame> {
        // Assumes each segment is self-contained and holds exactly what we need.
        let hl = if self.lz4 { 8 } else { 6 };
        if !self.fill(hl).await {
            return None;
        }
        let mut h = [0u8; 8];
        h[..hl.min(8)].copy_from_slice(&self.buf[..hl.min(8)]);
        let header = u64::from_le_bytes(h);
        let (clen, ulen) = if self.lz4 {
            (
                (header & 0x1ffff) as usize,
                ((header >> 17) & 0x1ffff) as usize,
            )
        } else {
            ((header & 0x1ffff) as usize, 0)
        };
        if !self.fill(hl + clen + 4).await {
            return None;
        }
        let seg: Vec<u8> = self.buf.drain(..hl + clen + 4).collect();
        let payload = &seg[hl..hl + clen];
        assert_eq!(
            crc32(payload).to_le_bytes(),
            seg[hl + clen..],
            "payload crc"
        );
        let payload = if self.lz4 && ulen > 0 {
            lz4_flex::block::decompress(payload, ulen).unwrap()
        } else {
            payload.to_vec()
        };
        let mut pos = 0;
        while pos < payload.len() {
            let len = i32::from_be_bytes(payload[pos + 5..pos + 9].try_into().unwrap()) as usize;
            let f = self.parse(&payload[pos..pos + 9 + len]);
            self.pending.push_back(f);
            pos += 9 + len;
        }
        self.pending.pop_front()
    }

    /// OPTIONS + STARTUP (+ optional extra startup options); expects READY or AUTHENTICATE.
    pub async fn handshake(&mut self, extra: &[(&str, &str)]) -> Frame {
        let mut opts = vec![("CQL_VERSION", "3.0.0")];
        opts.extend_from_slice(extra);
        self.send(0, STARTUP, &string_map(&opts)).await;
        let f = self.recv().await.expect("startup answer");
        if let Some((_, c)) = extra.iter().find(|(k, _)| *k == "COMPRESSION") {
            if self.version >= 5 {
                self.lz4 = *c == "lz4";
            } else {
                self.compression = Compression::from(*c);
            }
        }
        if self.version >= 5 && (f.opcode == READY || f.opcode == AUTHENTICATE) {
            self.framed = true;
        }
        f
    }

    /// True when the server closed the connection (EOF) within a second.
    pub async fn closed(&mut self) -> bool {
        let mut tmp = vec![0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(2), self.stream.read(&mut tmp)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}
