//! Authentication: a SASL-style [`Authenticator`] driven by the handshake (initial response,
//! challenges, success), created per connection by an [`AuthenticatorProvider`], and the
//! username/password [`PlainTextAuthenticator`] (SASL PLAIN).

use std::fmt;

use crate::error::AuthError;

/// One connection's authentication exchange (SASL-style).
pub trait Authenticator: Send {
    /// The token of the first AUTH_RESPONSE.
    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, AuthError>;

    /// Answers a server AUTH_CHALLENGE with the next AUTH_RESPONSE token.
    fn evaluate_challenge(
        &mut self,
        challenge: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, AuthError>;

    /// Called with the AUTH_SUCCESS token when the server accepted.
    fn success(&mut self, token: Option<&[u8]>) -> Result<(), AuthError> {
        let _ = token;
        Ok(())
    }
}

/// Creates an [`Authenticator`] for each new connection.
pub trait AuthenticatorProvider: Send + Sync + fmt::Debug {
    /// A fresh authenticator for a server whose AUTHENTICATE named `server_authenticator`
    /// (a Java class name such as `org.apache.cassandra.auth.PasswordAuthenticator`).
    fn start(&self, server_authenticator: &str) -> Result<Box<dyn Authenticator>, AuthError>;
}

/// Username and password, sent as SASL PLAIN (`\0user\0password`), as expected by
/// Cassandra's and ScyllaDB's `PasswordAuthenticator`.
#[derive(Clone)]
pub struct PlainTextAuthenticator {
    username: String,
    password: String,
}

impl fmt::Debug for PlainTextAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainTextAuthenticator")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl PlainTextAuthenticator {
    /// Credentials for `username` / `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The SASL PLAIN token.
    pub fn token(&self) -> Vec<u8> {
        let mut t = Vec::with_capacity(2 + self.username.len() + self.password.len());
        t.push(0);
        t.extend_from_slice(self.username.as_bytes());
        t.push(0);
        t.extend_from_slice(self.password.as_bytes());
        t
    }
}

#[derive(Debug)]
struct PlainExchange {
    token: Option<Vec<u8>>,
}

impl Authenticator for PlainExchange {
    fn initial_response(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        Ok(self.token.take())
    }

    fn evaluate_challenge(
        &mut self,
        _challenge: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, AuthError> {
        // PLAIN is a single round trip: a challenge means the server wants something else.
        Err(AuthError::UnexpectedChallenge)
    }
}

impl AuthenticatorProvider for PlainTextAuthenticator {
    fn start(&self, _server_authenticator: &str) -> Result<Box<dyn Authenticator>, AuthError> {
        // Any authenticator that speaks SASL PLAIN (PasswordAuthenticator, Scylla's
        // SaslauthdAuthenticator, DSE's) accepts this token.
        Ok(Box::new(PlainExchange {
            token: Some(self.token()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_token_layout() {
        let a = PlainTextAuthenticator::new("cassandra", "pw");
        assert_eq!(a.token(), b"\0cassandra\0pw");
        let mut ex = a
            .start("org.apache.cassandra.auth.PasswordAuthenticator")
            .unwrap();
        assert_eq!(ex.initial_response().unwrap().unwrap(), b"\0cassandra\0pw");
        assert_eq!(
            ex.evaluate_challenge(Some(b"x")),
            Err(AuthError::UnexpectedChallenge)
        );
        assert!(!format!("{a:?}").contains("pw\""));
    }
}
