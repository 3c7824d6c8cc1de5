//! Response messages (v4 §4.2), decoded from `Bytes` without copying payloads.
