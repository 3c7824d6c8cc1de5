//! Local validation of keyspace names, so that a bad name is a typed error before anything
//! is sent: unquoted names are 1 to 48 ASCII letters, digits or underscores (case-folded by
//! the server); quoted names (`"MyKs"`) keep their case and may contain `""` escapes.

use crate::error::KeyspaceNameError;

/// Longest keyspace name Cassandra and Scylla accept.
pub(crate) const MAX_KEYSPACE_NAME: usize = 48;

/// Validates `name` and returns it in the form to put after `USE`.
pub(crate) fn validate_keyspace_name(name: &str) -> Result<String, KeyspaceNameError> {
    if let Some(inner) = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        // Quoted: "" stands for one quote; a lone quote is invalid.
        let mut chars = inner.chars().peekable();
        let mut len = 0;
        while let Some(c) = chars.next() {
            if c == '"' && chars.next_if_eq(&'"').is_none() {
                return Err(KeyspaceNameError::InvalidCharacter {
                    name: name.to_owned(),
                    character: '"',
                });
            }
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '"') {
                return Err(KeyspaceNameError::InvalidCharacter {
                    name: name.to_owned(),
                    character: c,
                });
            }
            len += 1;
        }
        return match len {
            0 => Err(KeyspaceNameError::Empty),
            n if n > MAX_KEYSPACE_NAME => Err(KeyspaceNameError::TooLong(name.to_owned())),
            _ => Ok(name.to_owned()),
        };
    }
    if name.is_empty() {
        return Err(KeyspaceNameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(KeyspaceNameError::InvalidCharacter {
            name: name.to_owned(),
            character: c,
        });
    }
    if name.len() > MAX_KEYSPACE_NAME {
        return Err(KeyspaceNameError::TooLong(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// The CQL form of a keyspace name as the server reports it (e.g. in Set_keyspace): as is
/// when it would read the same unquoted (lowercase letters, digits, `_`), quoted otherwise.
pub(crate) fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cql_names() {
        assert_eq!(validate_keyspace_name("ks_1").unwrap(), "ks_1");
        assert_eq!(validate_keyspace_name("\"MyKs\"").unwrap(), "\"MyKs\"");
        assert!(validate_keyspace_name(&"a".repeat(48)).is_ok());
    }

    #[test]
    fn quotes_case_sensitive_names() {
        assert_eq!(quote_if_needed("ks_1"), "ks_1");
        assert_eq!(quote_if_needed("MyKs"), "\"MyKs\"");
        assert_eq!(quote_if_needed("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(validate_keyspace_name(""), Err(KeyspaceNameError::Empty));
        assert_eq!(
            validate_keyspace_name("\"\""),
            Err(KeyspaceNameError::Empty)
        );
        assert!(matches!(
            validate_keyspace_name("ks; DROP TABLE x"),
            Err(KeyspaceNameError::InvalidCharacter { character: ';', .. })
        ));
        assert!(matches!(
            validate_keyspace_name("my-ks"),
            Err(KeyspaceNameError::InvalidCharacter { character: '-', .. })
        ));
        assert!(matches!(
            validate_keyspace_name(&"a".repeat(49)),
            Err(KeyspaceNameError::TooLong(_))
        ));
        assert!(matches!(
            validate_keyspace_name("\"a\"b\""),
            Err(KeyspaceNameError::InvalidCharacter { character: '"', .. })
        ));
    }
}
