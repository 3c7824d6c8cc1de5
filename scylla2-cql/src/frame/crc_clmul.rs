//! CRC-32 (IEEE, reflected) of short buffers by carry-less multiplication (x86-64 PCLMULQDQ),
//! for the segment payloads of one or a few small requests and responses.
//!
//! `crc32fast` takes its table path below 128 bytes and finishes every length that is not a
//! multiple of 16 with a table loop, and a single request or response makes a segment of a
//! few dozen to a few hundred bytes: with this path a prepared single-row SELECT costs 77
//! instructions less per request (callgrind, both of its segments in range), an INSERT 22
//! less (its request segment and its 13-byte Void answer). Here the remainder goes first
//! instead: the initial register is XORed into the first four bytes (the CRC of a message
//! with a zero register then equals the CRC with that register), and the first `len % 16`
//! bytes are padded with leading zeros to a full block (leading zeros leave a zero register
//! unchanged), so that every block is a whole 16 bytes and no table is needed.
//!
//! Each block folds into a 128-bit accumulator: `acc = lo(acc) * K1 ^ hi(acc) * K2 ^ block`
//! with `K1 = x^(128+32) mod P` and `K2 = x^(128-32) mod P` (bit-reflected and shifted, as
//! in Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
//! Instruction", Intel, 2009); the accumulator is then reduced to 64 bits (`K2`), to 32
//! bits (`K3 = x^64 mod P`), and to the remainder by Barrett reduction (`P` and
//! `MU = x^64 / P`). The tests check it against the bitwise definition and `crc32fast` for
//! every length up to several blocks and every start alignment.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128i, _mm_and_si128, _mm_clmulepi64_si128, _mm_cvtsi32_si128, _mm_cvtsi128_si32,
    _mm_loadu_si128, _mm_set_epi32, _mm_set_epi64x, _mm_shuffle_epi8, _mm_srli_si128,
    _mm_xor_si128,
};
use std::sync::atomic::{AtomicU8, Ordering};

/// Fold constants, bit-reflected (see the module documentation).
const K1: i64 = 0x1_7519_97d0;
const K2: i64 = 0x0_ccaa_009e;
const K3: i64 = 0x1_63cd_6124;
/// The CRC-32 polynomial, bit-reflected, with its x^32 term.
const P: i64 = 0x1_db71_0641;
/// `x^64 / P`, bit-reflected.
const MU: i64 = 0x1_f701_1641;

/// `SHIFT[r..r + 16]` as a byte shuffle moves bytes `0..r` of a block to its end
/// (`16 - r..16`) and zeroes the others (`0x80` selects zero).
const SHIFT: [u8; 32] = {
    let mut table = [0x80u8; 32];
    let mut i = 0;
    while i < 16 {
        table[16 + i] = i as u8;
        i += 1;
    }
    table
};

/// Whether the CPU has what [`register_after`] needs: unknown (0), yes (1), no (2). Read
/// once per process; `is_x86_feature_detected!` per call costs more than the checks
/// themselves for the shortest buffers.
static SUPPORT: AtomicU8 = AtomicU8::new(0);

/// Whether [`register_after`] may run on this CPU.
#[inline]
pub(crate) fn available() -> bool {
    match SUPPORT.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => detect(),
    }
}

#[cold]
fn detect() -> bool {
    #[cfg(target_arch = "x86_64")]
    let yes = std::arch::is_x86_feature_detected!("pclmulqdq")
        && std::arch::is_x86_feature_detected!("ssse3");
    #[cfg(not(target_arch = "x86_64"))]
    let yes = false;
    SUPPORT.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
    yes
}

/// The CRC-32 register (not inverted) after `data`, from register `register`.
///
/// # Safety
///
/// [`available`] returned `true`, and `data` is at least 16 bytes long.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3")]
pub(crate) unsafe fn register_after(register: u32, data: &[u8]) -> u32 {
    debug_assert!(data.len() >= 16);
    let len = data.len();
    let rem = len % 16;
    let at = |offset: usize| {
        debug_assert!(offset + 16 <= len);
        // SAFETY: every caller passes `offset + 16 <= len`: an unaligned 16-byte load
        // inside `data`.
        unsafe { _mm_loadu_si128(data.as_ptr().add(offset).cast::<__m128i>()) }
    };
    // The register goes into the first four bytes (read as the low 32 bits).
    let first = _mm_xor_si128(at(0), _mm_cvtsi32_si128(register as i32));
    let (mut acc, mut next, carry) = if rem == 0 {
        (first, 16, 0)
    } else {
        // SAFETY: `rem < 16`, so `rem + 16 <= 32`: inside `SHIFT`.
        let shift = unsafe { _mm_loadu_si128(SHIFT.as_ptr().add(rem).cast::<__m128i>()) };
        // Bytes `rem..4` of `first` held register bits too; the block that starts at `rem`
        // is loaded again from `data`, so they are XORed into it there.
        let carry = if rem < 4 { register >> (8 * rem) } else { 0 };
        (_mm_shuffle_epi8(first, shift), rem, carry)
    };
    let k1k2 = _mm_set_epi64x(K2, K1);
    // `next` is 16 or `rem`, so `len - next` is a multiple of 16 and every load is whole.
    if next < len {
        let block = _mm_xor_si128(at(next), _mm_cvtsi32_si128(carry as i32));
        acc = fold(acc, block, k1k2);
        next += 16;
    }
    // Two blocks per turn: half the loop's own instructions.
    while next + 32 <= len {
        acc = fold(fold(acc, at(next), k1k2), at(next + 16), k1k2);
        next += 32;
    }
    if next < len {
        acc = fold(acc, at(next), k1k2);
    }
    reduce(acc, k1k2)
}

/// [`register_after`] for 4 to 15 bytes: the bytes, the register XORed into the first four,
/// placed at the end of one zeroed block (read as two overlapping words: no copy).
///
/// # Safety
///
/// [`available`] returned `true`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3")]
pub(crate) unsafe fn register_after_short(register: u32, data: &[u8]) -> u32 {
    let len = data.len();
    // The bytes as a little-endian integer: the first and the last word, overlapping by
    // `2 * word - len` identical bytes (so that OR keeps them).
    let value = if len >= 8 {
        match (data.first_chunk::<8>(), data.last_chunk::<8>()) {
            (Some(a), Some(b)) => {
                u128::from(u64::from_le_bytes(*a))
                    | u128::from(u64::from_le_bytes(*b)) << (8 * (len - 8))
            }
            // Fewer than 4 bytes (its callers never pass them): the definition.
            _ => return super::crc::crc32_update_bitwise(register, data),
        }
    } else {
        match (data.first_chunk::<4>(), data.last_chunk::<4>()) {
            (Some(a), Some(b)) => {
                u128::from(u32::from_le_bytes(*a))
                    | u128::from(u32::from_le_bytes(*b)) << (8 * (len - 4))
            }
            // Fewer than 4 bytes (its callers never pass them): the definition.
            _ => return super::crc::crc32_update_bitwise(register, data),
        }
    };
    let block = (value ^ u128::from(register)) << (8 * (16 - len));
    let block = _mm_set_epi64x((block >> 64) as i64, block as i64);
    reduce(block, _mm_set_epi64x(K2, K1))
}

/// `lo(acc) * K1 ^ hi(acc) * K2 ^ block`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3")]
#[inline]
fn fold(acc: __m128i, block: __m128i, k1k2: __m128i) -> __m128i {
    let lo = _mm_clmulepi64_si128(acc, k1k2, 0x00);
    let hi = _mm_clmulepi64_si128(acc, k1k2, 0x11);
    _mm_xor_si128(_mm_xor_si128(lo, hi), block)
}

/// The 32-bit remainder of the 128-bit accumulator.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3")]
#[inline]
fn reduce(acc: __m128i, k1k2: __m128i) -> u32 {
    let low32 = _mm_set_epi32(0, 0, 0, -1);
    // 128 to 64 bits: the low half times K2, plus the high half.
    let x = _mm_xor_si128(
        _mm_clmulepi64_si128(acc, k1k2, 0x10),
        _mm_srli_si128(acc, 8),
    );
    // 64 to 32 bits: the low 32 bits times K3, plus the rest.
    let x = _mm_xor_si128(
        _mm_clmulepi64_si128(_mm_and_si128(x, low32), _mm_set_epi64x(0, K3), 0x00),
        _mm_srli_si128(x, 4),
    );
    // Barrett reduction: the quotient estimate by MU, times P, cancels all but the remainder
    // (left in bits 32..64).
    let p_mu = _mm_set_epi64x(MU, P);
    let t1 = _mm_clmulepi64_si128(_mm_and_si128(x, low32), p_mu, 0x10);
    let t2 = _mm_clmulepi64_si128(_mm_and_si128(t1, low32), p_mu, 0x00);
    _mm_cvtsi128_si32(_mm_srli_si128(_mm_xor_si128(x, t2), 4)) as u32
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// `x^n mod poly` over GF(2), `poly` with its top term (degree 32 or more).
    fn x_pow_mod(n: u32, poly: u64) -> u64 {
        let degree = 63 - poly.leading_zeros();
        let mut r = 1u64;
        for _ in 0..n {
            r <<= 1;
            if r >> degree & 1 == 1 {
                r ^= poly;
            }
        }
        r
    }

    /// The constants are what the module documentation says they are.
    #[test]
    fn constants_follow_from_the_polynomial() {
        const POLY: u64 = 0x1_04C1_1DB7; // CRC-32, normal bit order, with x^32
        let reflected_shifted = |v: u64| i64::from((v as u32).reverse_bits()) << 1;
        assert_eq!(reflected_shifted(x_pow_mod(128 + 32, POLY)), K1);
        assert_eq!(reflected_shifted(x_pow_mod(128 - 32, POLY)), K2);
        assert_eq!(reflected_shifted(x_pow_mod(64, POLY)), K3);
        assert_eq!((POLY.reverse_bits() >> 31) as i64, P);
        // x^64 / POLY by long division.
        let (mut rest, mut quotient) = (1u128 << 64, 0u128);
        while 127 - rest.leading_zeros() >= 32 {
            let s = 127 - rest.leading_zeros() - 32;
            quotient |= 1 << s;
            rest ^= u128::from(POLY) << s;
        }
        assert_eq!(((quotient as u64).reverse_bits() >> 31) as i64, MU);
    }

    #[test]
    fn every_length_start_and_register_agree_with_the_definition() {
        assert!(available(), "PCLMULQDQ and SSSE3 on this machine");
        let data: Vec<u8> = (0..600u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for register in [0, u32::MAX, 0xBB88_812C, 0x0000_00FF, 0xFF00_0000] {
            for start in 0..16 {
                for len in 0..=300 {
                    let bytes = &data[start..start + len];
                    // SAFETY: checked `available` above; `register_after` only from 16 bytes.
                    let got = unsafe {
                        if len < 16 {
                            register_after_short(register, bytes)
                        } else {
                            register_after(register, bytes)
                        }
                    };
                    let expected = crate::frame::crc::crc32_update_bitwise(register, bytes);
                    assert_eq!(
                        got, expected,
                        "register {register:#x} start {start} len {len}"
                    );
                }
            }
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&data[..517]);
        // SAFETY: as above.
        assert_eq!(
            !unsafe { register_after(!0, &data[..517]) },
            hasher.finalize()
        );
    }
}
