//! Consistency levels (`[consistency]`, spec v4 §3 / v5 §3).

use crate::wire::WireError;

/// A consistency level as sent in requests and received in error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u16)]
#[non_exhaustive]
pub enum Consistency {
    /// ANY (writes only).
    Any = 0x0000,
    /// ONE.
    One = 0x0001,
    /// TWO.
    Two = 0x0002,
    /// THREE.
    Three = 0x0003,
    /// QUORUM.
    Quorum = 0x0004,
    /// ALL.
    All = 0x0005,
    /// LOCAL_QUORUM (the driver's default).
    #[default]
    LocalQuorum = 0x0006,
    /// EACH_QUORUM.
    EachQuorum = 0x0007,
    /// SERIAL.
    Serial = 0x0008,
    /// LOCAL_SERIAL.
    LocalSerial = 0x0009,
    /// LOCAL_ONE.
    LocalOne = 0x000A,
}

impl Consistency {
    /// The `[short]` code sent on the wire.
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// Decodes a `[consistency]` code.
    pub fn from_code(code: u16) -> Result<Self, WireError> {
        Ok(match code {
            0x0000 => Self::Any,
            0x0001 => Self::One,
            0x0002 => Self::Two,
            0x0003 => Self::Three,
            0x0004 => Self::Quorum,
            0x0005 => Self::All,
            0x0006 => Self::LocalQuorum,
            0x0007 => Self::EachQuorum,
            0x0008 => Self::Serial,
            0x0009 => Self::LocalSerial,
            0x000A => Self::LocalOne,
            other => return Err(WireError::InvalidConsistency(other)),
        })
    }

    /// Whether this is a serial consistency (SERIAL or LOCAL_SERIAL).
    pub const fn is_serial(self) -> bool {
        matches!(self, Self::Serial | Self::LocalSerial)
    }
}

/// The serial consistency of a conditional (LWT) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SerialConsistency {
    /// SERIAL.
    Serial,
    /// LOCAL_SERIAL.
    #[default]
    LocalSerial,
}

impl From<SerialConsistency> for Consistency {
    fn from(value: SerialConsistency) -> Self {
        match value {
            SerialConsistency::Serial => Consistency::Serial,
            SerialConsistency::LocalSerial => Consistency::LocalSerial,
        }
    }
}

impl std::fmt::Display for Consistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Any => "ANY",
            Self::One => "ONE",
            Self::Two => "TWO",
            Self::Three => "THREE",
            Self::Quorum => "QUORUM",
            Self::All => "ALL",
            Self::LocalQuorum => "LOCAL_QUORUM",
            Self::EachQuorum => "EACH_QUORUM",
            Self::Serial => "SERIAL",
            Self::LocalSerial => "LOCAL_SERIAL",
            Self::LocalOne => "LOCAL_ONE",
        };
        f.write_str(name)
    }
}
