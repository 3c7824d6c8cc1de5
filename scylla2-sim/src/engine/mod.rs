//! Schema, storage and statement execution.
