//! Conversion of CQL literals to the serialized encoding of a column type (§6 of the
//! native protocol spec), with Cassandra's "Invalid X constant" errors.

use std::net::IpAddr;

use super::write_signed_vint;
use crate::cql::ast::Literal;
use crate::model::ColumnType;

fn kind(l: &Literal) -> &'static str {
    match l {
        Literal::Str(_) => "STRING",
        Literal::Int(_) => "INTEGER",
        Literal::Float(_) => "FLOAT",
        Literal::Bool(_) => "BOOLEAN",
        Literal::Null => "NULL",
        Literal::Blob(_) => "HEX",
        Literal::Uuid(_) => "UUID",
        Literal::Duration(_) => "DURATION",
    }
}

fn text(l: &Literal) -> String {
    match l {
        Literal::Str(s) | Literal::Int(s) | Literal::Float(s) | Literal::Duration(s) => s.clone(),
        Literal::Bool(b) => b.to_string(),
        Literal::Null => "null".into(),
        Literal::Blob(b) => format!(
            "0x{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        Literal::Uuid(u) => u.to_string(),
    }
}

/// Encodes `lit` as a value of `typ` for column `col`; `Ok(None)` for null.
pub fn encode_literal(
    typ: &ColumnType,
    lit: &Literal,
    col: &str,
) -> Result<Option<Vec<u8>>, String> {
    let invalid = || {
        format!(
            "Invalid {} constant ({}) for \"{col}\" of type {}",
            kind(lit),
            text(lit),
            super::names::type_name(typ)
        )
    };
    if let Literal::Null = lit {
        return Ok(None);
    }
    let int = |min: i128, max: i128| -> Result<i128, String> {
        match lit {
            Literal::Int(s) => s
                .parse::<i128>()
                .ok()
                .filter(|v| (min..=max).contains(v))
                .ok_or_else(invalid),
            _ => Err(invalid()),
        }
    };
    let out = match typ {
        ColumnType::TinyInt => (int(-128, 127)? as i8).to_be_bytes().to_vec(),
        ColumnType::SmallInt => (int(-32768, 32767)? as i16).to_be_bytes().to_vec(),
        ColumnType::Int => (int(i32::MIN.into(), i32::MAX.into())? as i32)
            .to_be_bytes()
            .to_vec(),
        ColumnType::BigInt | ColumnType::Counter => (int(i64::MIN.into(), i64::MAX.into())? as i64)
            .to_be_bytes()
            .to_vec(),
        ColumnType::Varint => match lit {
            Literal::Int(s) => varint_from_decimal(s).ok_or_else(invalid)?,
            _ => return Err(invalid()),
        },
        ColumnType::Float | ColumnType::Double => {
            let v: f64 = match lit {
                Literal::Int(s) | Literal::Float(s) => parse_float(s).ok_or_else(invalid)?,
                _ => return Err(invalid()),
            };
            if matches!(typ, ColumnType::Float) {
                (v as f32).to_be_bytes().to_vec()
            } else {
                v.to_be_bytes().to_vec()
            }
        }
        ColumnType::Decimal => match lit {
            Literal::Int(s) | Literal::Float(s) => decimal(s).ok_or_else(invalid)?,
            _ => return Err(invalid()),
        },
        ColumnType::Boolean => match lit {
            Literal::Bool(b) => vec![u8::from(*b)],
            _ => return Err(invalid()),
        },
        ColumnType::Text | ColumnType::Ascii => match lit {
            Literal::Str(s) if matches!(typ, ColumnType::Text) || s.is_ascii() => {
                s.as_bytes().to_vec()
            }
            _ => return Err(invalid()),
        },
        ColumnType::Blob | ColumnType::Custom(_) => match lit {
            Literal::Blob(b) => b.clone(),
            _ => return Err(invalid()),
        },
        ColumnType::Uuid | ColumnType::Timeuuid => match lit {
            Literal::Uuid(u) => {
                if matches!(typ, ColumnType::Timeuuid) && u.get_version_num() != 1 {
                    return Err(format!(
                        "Invalid UUID constant ({u}) for \"{col}\" of type timeuuid"
                    ));
                }
                u.as_bytes().to_vec()
            }
            Literal::Str(s) => uuid::Uuid::parse_str(s)
                .map_err(|_| invalid())?
                .as_bytes()
                .to_vec(),
            _ => return Err(invalid()),
        },
        ColumnType::Inet => match lit {
            Literal::Str(s) => match s.parse::<IpAddr>().map_err(|_| invalid())? {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            },
            _ => return Err(invalid()),
        },
        ColumnType::Timestamp => match lit {
            Literal::Int(s) => s
                .parse::<i64>()
                .map_err(|_| invalid())?
                .to_be_bytes()
                .to_vec(),
            Literal::Str(s) => parse_timestamp(s)
                .ok_or_else(invalid)?
                .to_be_bytes()
                .to_vec(),
            _ => return Err(invalid()),
        },
        ColumnType::Date => match lit {
            Literal::Int(s) => s
                .parse::<u32>()
                .map_err(|_| invalid())?
                .to_be_bytes()
                .to_vec(),
            Literal::Str(s) => {
                let days = parse_date(s).ok_or_else(invalid)?;
                ((days + (1i64 << 31)) as u32).to_be_bytes().to_vec()
            }
            _ => return Err(invalid()),
        },
        ColumnType::Time => match lit {
            Literal::Int(s) => s
                .parse::<i64>()
                .map_err(|_| invalid())?
                .to_be_bytes()
                .to_vec(),
            Literal::Str(s) => parse_time(s).ok_or_else(invalid)?.to_be_bytes().to_vec(),
            _ => return Err(invalid()),
        },
        ColumnType::Duration => match lit {
            Literal::Duration(s) | Literal::Str(s) => {
                let (m, d, n) = parse_duration(s).ok_or_else(invalid)?;
                let mut out = Vec::new();
                write_signed_vint(&mut out, m);
                write_signed_vint(&mut out, d);
                write_signed_vint(&mut out, n);
                out
            }
            _ => return Err(invalid()),
        },
        _ => return Err(invalid()),
    };
    Ok(Some(out))
}

fn parse_float(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" => Some(f64::INFINITY),
        "-infinity" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// Two's complement big-endian bytes of a decimal integer string (minimal length).
pub fn varint_from_decimal(s: &str) -> Option<Vec<u8>> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Magnitude as little-endian base-256.
    let mut mag: Vec<u8> = vec![0];
    for d in digits.bytes() {
        let mut carry = u32::from(d - b'0');
        for byte in mag.iter_mut() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push(carry as u8);
            carry >>= 8;
        }
    }
    if neg {
        // Two's complement: invert and add one.
        let mut carry = 1u16;
        for byte in mag.iter_mut() {
            let v = u16::from(!*byte) + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
    }
    let mut be: Vec<u8> = mag.into_iter().rev().collect();
    let sign_ok = |b: &[u8]| (b[0] & 0x80 != 0) == neg;
    if !sign_ok(&be) {
        be.insert(0, if neg { 0xff } else { 0 });
    }
    while be.len() > 1
        && ((be[0] == 0 && be[1] & 0x80 == 0) || (be[0] == 0xff && be[1] & 0x80 != 0))
    {
        be.remove(0);
    }
    Some(be)
}

fn decimal(s: &str) -> Option<Vec<u8>> {
    let lower = s.to_ascii_lowercase();
    let (mantissa, exp) = match lower.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().ok()?),
        None => (lower.clone(), 0),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    let digits = format!("{int_part}{frac}");
    let scale = frac.len() as i32 - exp;
    let mut out = scale.to_be_bytes().to_vec();
    out.extend(varint_from_decimal(&digits)?);
    Some(out)
}

/// The civil date (proleptic Gregorian) `days` after 1970-01-01: the inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let mut it = hms.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let sec: i64 = it.next().map_or(Some(0), |x| x.parse().ok())?;
    if h > 23 || m > 59 || sec > 59 || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        nanos *= 10;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// Parses `yyyy-mm-dd[( |T)hh:mm[:ss[.fff]]][Z|(+|-)hh[:]mm]` to milliseconds since epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s.get(..10.min(s.len()))?, s.get(10.min(s.len())..)?),
    };
    let days = parse_date(date)?;
    let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let time = time.trim();
    let ms_of_day = if time.is_empty() {
        0
    } else {
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let nanos = parse_time(hms)?;
        let mut ms: i64 = if frac.is_empty() {
            0
        } else {
            frac.get(..frac.len().min(3))?.parse().ok()?
        };
        for _ in frac.len().min(3)..3 {
            ms *= 10;
        }
        nanos / 1_000_000 + ms
    };
    let offset_ms = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 && digits.len() != 2 {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = if digits.len() == 4 {
                digits[2..].parse().ok()?
            } else {
                0
            };
            sign * (h * 60 + m) * 60_000
        }
    };
    Some(days * 86_400_000 + ms_of_day - offset_ms)
}

/// Parses a duration literal (`1h30m`, `-2d`, `P1Y2M`, `PT1H`) to (months, days, nanos).
pub fn parse_duration(s: &str) -> Option<(i64, i64, i64)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (mut months, mut days, mut nanos) = (0i64, 0i64, 0i64);
    if let Some(iso) = body.strip_prefix('P').or_else(|| body.strip_prefix('p')) {
        let mut in_time = false;
        let mut num = String::new();
        for c in iso.chars() {
            match c.to_ascii_uppercase() {
                'T' => in_time = true,
                d if d.is_ascii_digit() => num.push(d),
                unit => {
                    let n: i64 = num.parse().ok()?;
                    num.clear();
                    match (unit, in_time) {
                        ('Y', false) => months += 12 * n,
                        ('M', false) => months += n,
                        ('W', false) => days += 7 * n,
                        ('D', false) => days += n,
                        ('H', true) => nanos += n * 3_600_000_000_000,
                        ('M', true) => nanos += n * 60_000_000_000,
                        ('S', true) => nanos += n * 1_000_000_000,
                        _ => return None,
                    }
                }
            }
        }
        if !num.is_empty() {
            return None;
        }
    } else {
        let lower = body.to_ascii_lowercase();
        let mut rest = lower.as_str();
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let n: i64 = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            let ulen = rest.bytes().take_while(|c| !c.is_ascii_digit()).count();
            let unit = &rest[..ulen];
            rest = &rest[ulen..];
            match unit {
                "y" => months += 12 * n,
                "mo" => months += n,
                "w" => days += 7 * n,
                "d" => days += n,
                "h" => nanos += n * 3_600_000_000_000,
                "m" => nanos += n * 60_000_000_000,
                "s" => nanos += n * 1_000_000_000,
                "ms" => nanos += n * 1_000_000,
                "us" | "µs" => nanos += n * 1_000,
                "ns" => nanos += n,
                _ => return None,
            }
        }
    }
    if neg {
        Some((-months, -days, -nanos))
    } else {
        Some((months, days, nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_numbers_and_errors() {
        let enc = |t: &ColumnType, l: Literal| encode_literal(t, &l, "c");
        assert_eq!(
            enc(&ColumnType::Int, Literal::Int("-2".into()))
                .unwrap()
                .unwrap(),
            vec![0xff, 0xff, 0xff, 0xfe]
        );
        assert_eq!(
            enc(&ColumnType::Int, Literal::Str("x".into())).unwrap_err(),
            "Invalid STRING constant (x) for \"c\" of type int"
        );
        assert!(enc(&ColumnType::TinyInt, Literal::Int("200".into())).is_err());
        assert_eq!(enc(&ColumnType::Int, Literal::Null).unwrap(), None);
        assert_eq!(varint_from_decimal("128").unwrap(), vec![0x00, 0x80]);
        assert_eq!(varint_from_decimal("-129").unwrap(), vec![0xff, 0x7f]);
        assert_eq!(varint_from_decimal("-128").unwrap(), vec![0x80]);
        assert_eq!(varint_from_decimal("0").unwrap(), vec![0x00]);
        assert_eq!(decimal("1.25").unwrap(), vec![0, 0, 0, 2, 0x7d]);
        let d = enc(&ColumnType::Double, Literal::Float("NaN".into()))
            .unwrap()
            .unwrap();
        assert!(f64::from_be_bytes(d.try_into().unwrap()).is_nan());
    }

    #[test]
    fn parses_dates_times_durations() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(
            parse_timestamp("2020-01-01 00:00:00+0100"),
            Some(1_577_833_200_000)
        );
        assert_eq!(parse_timestamp("2020-01-01"), Some(1_577_836_800_000));
        assert_eq!(
            parse_timestamp("2020-01-01 10:20:30.5"),
            Some(1_577_874_030_500)
        );
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_time("01:00:00.000000001"), Some(3_600_000_000_001));
        assert_eq!(parse_duration("1h30m"), Some((0, 0, 5_400_000_000_000)));
        assert_eq!(parse_duration("1y2mo3d"), Some((14, 3, 0)));
        assert_eq!(parse_duration("P1DT2H"), Some((0, 1, 7_200_000_000_000)));
        assert_eq!(parse_duration("-2d"), Some((0, -2, 0)));
        assert!(parse_duration("3x").is_none());
    }
}
