//! The user table: usernames with salted Argon2id password hashes, in SQLite.

use std::path::Path;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, params};

/// What the table says about a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The user exists and the password is right.
    Valid,
    /// The user exists and the password is wrong.
    WrongPassword,
    /// No such user.
    Unknown,
}

/// The user table, shared by every call (SQLite connections are not `Sync`,
/// so one connection behind a lock; lookups are short).
#[derive(Clone)]
pub struct Users {
    db: Arc<Mutex<Connection>>,
}

impl Users {
    /// Opens the database at `path`, creating the file and the table on
    /// first use.
    pub fn open(path: impl AsRef<Path>) -> Result<Users, Error> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (
                 username      TEXT PRIMARY KEY NOT NULL,
                 password_hash TEXT NOT NULL,
                 created_at    INTEGER NOT NULL DEFAULT (unixepoch())
             )",
        )?;
        Ok(Users {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Adds `username`, or replaces its password. Only the hash, with its
    /// own random salt, is stored.
    pub fn add(&self, username: &str, password: &str) -> Result<(), Error> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(Error::Hash)?
            .to_string();
        self.lock().execute(
            "INSERT INTO users (username, password_hash) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash",
            params![username, hash],
        )?;
        Ok(())
    }

    /// Removes `username`; whether it existed.
    pub fn remove(&self, username: &str) -> Result<bool, Error> {
        let removed = self
            .lock()
            .execute("DELETE FROM users WHERE username = ?1", params![username])?;
        Ok(removed > 0)
    }

    /// Checks `password` against the stored hash. Blocking (Argon2 is slow
    /// on purpose): call it from a blocking thread.
    pub fn verify(&self, username: &str, password: &str) -> Result<Verdict, Error> {
        let stored: Option<String> = self
            .lock()
            .query_row(
                "SELECT password_hash FROM users WHERE username = ?1",
                params![username],
                |row| row.get(0),
            )
            .optional()?;
        let Some(stored) = stored else {
            return Ok(Verdict::Unknown);
        };
        let hash = PasswordHash::new(&stored).map_err(Error::Hash)?;
        Ok(
            match Argon2::default().verify_password(password.as_bytes(), &hash) {
                Ok(()) => Verdict::Valid,
                Err(argon2::password_hash::Error::Password) => Verdict::WrongPassword,
                Err(other) => return Err(Error::Hash(other)),
            },
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable.
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Why the table could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("user database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A stored hash is malformed, or hashing failed.
    #[error("password hash: {0}")]
    Hash(argon2::password_hash::Error),
}
