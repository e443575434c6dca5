//! Where messages are written: SQLite or PostgreSQL, with the same table.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use exhook_runtime::Message;

/// Why the database failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file could not be opened or prepared.
    #[error("{}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// A SQLite statement failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The blocking SQLite call did not finish.
    #[error("SQLite call: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// EMQX's message id.
    pub message_id: String,
    /// The topic it was published on.
    pub topic: String,
    /// Its payload.
    pub payload: Bytes,
    /// Its QoS, 0 to 2.
    pub qos: i32,
    /// The publisher's client id.
    pub clientid: String,
    /// When EMQX received it, in milliseconds since the Unix epoch.
    pub timestamp: i64,
}

impl From<&Message> for Row {
    fn from(msg: &Message) -> Row {
        Row {
            message_id: msg.id.clone(),
            topic: msg.topic.clone(),
            payload: msg.payload.clone(),
            qos: msg.qos as i32,
            clientid: msg.from.clone(),
            timestamp: i64::try_from(msg.timestamp).unwrap_or(i64::MAX),
        }
    }
}

const SQLITE_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS messages (
        id         INTEGER PRIMARY KEY,
        message_id TEXT    NOT NULL,
        topic      TEXT    NOT NULL,
        payload    BLOB    NOT NULL,
        qos        INTEGER NOT NULL,
        clientid   TEXT    NOT NULL,
        timestamp  INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_timestamp ON messages (timestamp);";

const POSTGRES_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS messages (
        id         BIGSERIAL PRIMARY KEY,
        message_id TEXT      NOT NULL,
        topic      TEXT      NOT NULL,
        payload    BYTEA     NOT NULL,
        qos        INTEGER   NOT NULL,
        clientid   TEXT      NOT NULL,
        timestamp  BIGINT    NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_timestamp ON messages (timestamp);";

/// An open database.
pub enum Store {
    /// A SQLite file (blocking calls, made on a blocking thread).
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A PostgreSQL server.
    Postgres(tokio_postgres::Client),
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path`.
    pub fn sqlite(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let open = || -> rusqlite::Result<rusqlite::Connection> {
            let db = rusqlite::Connection::open(path)?;
            // Readers (`--query`) may hold the file briefly; wait for them.
            db.busy_timeout(Duration::from_secs(5))?;
            db.pragma_update(None, "journal_mode", "WAL")?;
            db.execute_batch(SQLITE_SCHEMA)?;
            Ok(db)
        };
        let db = open().map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Store::Sqlite(Arc::new(Mutex::new(db))))
    }

    /// Connects to the PostgreSQL server at `url` and creates the table if
    /// needed.
    pub async fn postgres(url: &str) -> Result<Store, StoreError> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::error!("PostgreSQL connection: {error}");
            }
        });
        client.batch_execute(POSTGRES_SCHEMA).await?;
        Ok(Store::Postgres(client))
    }

    /// Opens what the configuration names: PostgreSQL when `database_url`
    /// is given, else the SQLite file.
    pub async fn open(database_url: Option<&str>, sqlite_path: &Path) -> Result<Store, StoreError> {
        match database_url {
            Some(url) => Store::postgres(url).await,
            None => Store::sqlite(sqlite_path),
        }
    }

    /// Writes `rows` in one transaction: all or none.
    pub async fn insert(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(db) => {
                let db = db.clone();
                let rows = rows.to_vec();
                tokio::task::spawn_blocking(move || {
                    let mut db = db.lock().unwrap_or_else(|p| p.into_inner());
                    let tx = db.transaction()?;
                    {
                        let mut insert = tx.prepare_cached(
                            "INSERT INTO messages (message_id, topic, payload, qos, clientid, timestamp)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )?;
                        for row in &rows {
                            insert.execute(rusqlite::params![
                                row.message_id,
                                row.topic,
                                &row.payload[..],
                                row.qos,
                                row.clientid,
                                row.timestamp
                            ])?;
                        }
                    }
                    tx.commit()
                })
                .await??;
                Ok(())
            }
            Store::Postgres(client) => {
                let run = async {
                    let tx = client.transaction().await?;
                    let insert = tx
                        .prepare(
                            "INSERT INTO messages (message_id, topic, payload, qos, clientid, timestamp)
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .await?;
                    for row in rows {
                        tx.execute(
                            &insert,
                            &[
                                &row.message_id,
                                &row.topic,
                                &&row.payload[..],
                                &row.qos,
                                &row.clientid,
                                &row.timestamp,
                            ],
                        )
                        .await?;
                    }
                    tx.commit().await
                };
                Ok(run.await?)
            }
        }
    }

    /// Every row received at or after `since` (milliseconds since the
    /// epoch), oldest first.
    pub async fn since(&self, since: i64) -> Result<Vec<Row>, StoreError> {
        const SELECT: &str = "SELECT message_id, topic, payload, qos, clientid, timestamp
                              FROM messages WHERE timestamp >= ";
        match self {
            Store::Sqlite(db) => {
                let db = db.lock().unwrap_or_else(|p| p.into_inner());
                let query = || -> rusqlite::Result<Vec<Row>> {
                    let mut select = db.prepare(&format!("{SELECT} ?1 ORDER BY timestamp, id"))?;
                    let rows = select.query_map([since], |r| {
                        Ok(Row {
                            message_id: r.get(0)?,
                            topic: r.get(1)?,
                            payload: Bytes::from(r.get::<_, Vec<u8>>(2)?),
                            qos: r.get(3)?,
                            clientid: r.get(4)?,
                            timestamp: r.get(5)?,
                        })
                    })?;
                    rows.collect()
                };
                Ok(query()?)
            }
            Store::Postgres(client) => {
                let rows = client
                    .query(&format!("{SELECT} $1 ORDER BY timestamp, id"), &[&since])
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| Row {
                        message_id: r.get(0),
                        topic: r.get(1),
                        payload: Bytes::from(r.get::<_, Vec<u8>>(2)),
                        qos: r.get(3),
                        clientid: r.get(4),
                        timestamp: r.get(5),
                    })
                    .collect())
            }
        }
    }
}
