//! The `postgres` plugin: `wasi:keyvalue/store@0.2.0-draft` on PostgreSQL. Each label
//! connects as its own database role, from the connection string in its own environment
//! variable (`url-env`; secrets never go in the workload file), and keeps its rows in one
//! table:
//!
//! ```sql
//! CREATE TABLE keyvalue (bucket text, key text, value bytea, PRIMARY KEY (bucket, key));
//! ```
//!
//! A bucket is the rows with its identifier in `bucket`. Every statement is prepared once
//! per connection and takes its values as bind parameters. A database error reaches the
//! guest as the interface's `error` (`access-denied` for a missing privilege, `other`
//! with the database's message otherwise), never as a trap; a broken connection is
//! reopened by the next call.
//!
//! Keys: `url-env` (required), `table` (optional, default `keyvalue`: the role's
//! `search_path` finds it, so each role's own schema can hold its own table).

use super::framework::{BackendPlugin, HostView, Unavailable};
use super::keys::{self, KeyRule};
use super::keyvalue::{Error, INTERFACE, KeyResponse, KeyValue, PAGE_SIZE};
use compose_resolver::{BackendConfig, ConfigIssue, PlannedBackend, PluginSchema};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::env::VarError;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::LinkerInstance;

/// The `postgres` plugin. Each label's connection lives in the linker's definitions of
/// that label; the plugin only knows where to look up the variables `url-env` names.
#[derive(Clone, Default)]
pub struct PostgresPlugin {
    variables: Variables,
}

/// Where the variables that `url-env` names are looked up.
#[derive(Clone, Default)]
enum Variables {
    /// The process's environment.
    #[default]
    Process,
    /// A given set (a host's secret store, a test).
    Given(Arc<HashMap<String, String>>),
}

impl Variables {
    fn get(&self, name: &str) -> Result<String, VarError> {
        match self {
            Self::Process => std::env::var(name),
            Self::Given(map) => map.get(name).cloned().ok_or(VarError::NotPresent),
        }
    }
}

/// The keys of a `postgres` backend.
const KEYS: &[KeyRule] = &[
    KeyRule {
        key: "url-env",
        required: true,
        check: keys::env_var_name,
        help: "the name of an environment variable holding the connection string, \
               e.g. `url-env = \"TEAM_A_DATABASE_URL\"`",
    },
    KeyRule {
        key: "table",
        required: false,
        check: table_name,
        help: "a table (`keyvalue`) or a schema-qualified table (`team_a.keyvalue`): \
               lowercase letters, digits and `_`",
    },
];

/// The table when `table` is not given.
const DEFAULT_TABLE: &str = "keyvalue";

/// How long connecting may take before the backend counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl PostgresPlugin {
    /// The plugin's name.
    pub const NAME: &'static str = "postgres";

    /// A plugin that looks `url-env` up in the process's environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A plugin that looks `url-env` up in `variables` only (for hosts that keep secrets
    /// elsewhere than in their environment, and for tests).
    pub fn with_variables(
        variables: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        let map = variables
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            variables: Variables::Given(Arc::new(map)),
        }
    }

    /// Opens `backend`'s connection and proves that its role may read and write its table.
    ///
    /// # Errors
    /// The variable is missing, the server refuses or cannot be reached, the login fails,
    /// or the role lacks a privilege on the table.
    pub fn connect(&self, backend: &PlannedBackend) -> Result<PostgresStore, Unavailable> {
        let settings = Settings::from_backend(backend, self.variables.clone())?;
        let connection = outside_runtime(|| settings.open())?;
        Ok(PostgresStore {
            settings,
            connection: Mutex::new(Some(connection)),
        })
    }
}

impl PluginSchema for PostgresPlugin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn interfaces(&self) -> Vec<String> {
        vec![INTERFACE.to_owned()]
    }

    fn keys(&self) -> Vec<String> {
        KEYS.iter().map(|k| k.key.to_owned()).collect()
    }

    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue> {
        keys::validate_keys(config, KEYS, Self::NAME)
    }
}

impl<T: HostView> BackendPlugin<T> for PostgresPlugin {
    fn check(&self, backend: &PlannedBackend) -> Result<(), Unavailable> {
        self.connect(backend).map(drop)
    }

    fn define(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let store = Arc::new(self.connect(backend)?);
        super::keyvalue::define(instance, store).map_err(defining)
    }

    /// Each query on tokio's blocking pool, so that a request waiting for the database
    /// does not hold a worker thread.
    fn define_async(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let store = Arc::new(self.connect(backend)?);
        super::keyvalue::define_blocking(instance, store).map_err(defining)
    }
}

/// Why defining a backend's functions failed.
fn defining(error: wasmtime::Error) -> Unavailable {
    Unavailable::new(format!("defining its functions failed: {error:#}"))
}

/// `table`'s rule: one or two lowercase SQL identifiers. A table's name cannot be a bind
/// parameter, so it is written into the statements' text: only names this strict
/// pattern accepts get there, each quoted.
fn table_name(value: &str) -> Result<(), String> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        part.len() <= 63
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() <= 2 && parts.iter().all(|p| identifier(p)) {
        Ok(())
    } else {
        Err(format!("`{value}` is not a table name"))
    }
}

/// A backend's settings: where its connection string is, and its table.
struct Settings {
    label: String,
    variables: Variables,
    url_env: String,
    /// The table, quoted for SQL (`"team_a"."keyvalue"`).
    table: String,
}

impl Settings {
    fn from_backend(backend: &PlannedBackend, variables: Variables) -> Result<Self, Unavailable> {
        if let Some(issue) = keys::validate_keys(&backend.config, KEYS, PostgresPlugin::NAME)
            .into_iter()
            .next()
        {
            return Err(Unavailable {
                cause: issue.message,
                help: issue.help,
            });
        }
        let url_env = backend
            .config
            .get_str("url-env")
            .unwrap_or_default()
            .to_owned();
        let table = backend.config.get_str("table").unwrap_or(DEFAULT_TABLE);
        let table = table
            .split('.')
            .map(|part| format!("\"{part}\""))
            .collect::<Vec<_>>()
            .join(".");
        Ok(Self {
            label: backend.label.clone(),
            variables,
            url_env,
            table,
        })
    }

    /// Connects, prepares the statements and proves the role's privileges.
    fn open(&self) -> Result<Connection, Unavailable> {
        let url = self.variables.get(&self.url_env).map_err(|e| {
            Unavailable::new(match e {
                VarError::NotPresent => {
                    format!("environment variable `{}` is not set", self.url_env)
                }
                VarError::NotUnicode(_) => {
                    format!("environment variable `{}` is not valid UTF-8", self.url_env)
                }
            })
            .help(format!(
                "set `{}` to the connection string of the role that serves `{}` \
                 (postgresql://ROLE:PASSWORD@HOST:PORT/DATABASE; scripts/postgres.sh starts \
                 a database and prints one)",
                self.url_env, self.label
            ))
        })?;
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Unavailable::new(format!(
                "`{}` does not hold a PostgreSQL connection string: {e}",
                self.url_env
            ))
        })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let mut client = config.connect(NoTls).map_err(|e| {
            Unavailable::new(format!(
                "cannot connect with `{}`: {}",
                self.url_env,
                describe(&e)
            ))
        })?;
        let statements =
            Statements::prepare(&mut client, &self.table).map_err(|e| self.unusable(&e))?;
        probe(&mut client, &statements).map_err(|e| self.unusable(&e))?;
        Ok(Connection { client, statements })
    }

    fn unusable(&self, error: &postgres::Error) -> Unavailable {
        let why = Unavailable::new(format!(
            "the role of `{}` cannot use table {}: {}",
            self.url_env,
            self.table,
            describe(error)
        ));
        match error.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => why.help(format!(
                "grant the role USAGE on the table's schema and SELECT, INSERT, UPDATE, DELETE \
                 on {}",
                self.table
            )),
            Some(&SqlState::UNDEFINED_TABLE) => why.help(
                "create it: CREATE TABLE keyvalue (bucket text, key text, value bytea, \
                 PRIMARY KEY (bucket, key)), or name another with `table = \"...\"`",
            ),
            _ => why,
        }
    }
}

/// The statements of one connection, prepared once.
struct Statements {
    get: Statement,
    set: Statement,
    delete: Statement,
    exists: Statement,
    list: Statement,
}

impl Statements {
    fn prepare(client: &mut Client, table: &str) -> Result<Self, postgres::Error> {
        Ok(Self {
            get: client.prepare(&format!(
                "SELECT value FROM {table} WHERE bucket = $1 AND key = $2"
            ))?,
            set: client.prepare(&format!(
                "INSERT INTO {table} (bucket, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value"
            ))?,
            delete: client.prepare(&format!(
                "DELETE FROM {table} WHERE bucket = $1 AND key = $2"
            ))?,
            exists: client.prepare(&format!(
                "SELECT EXISTS (SELECT 1 FROM {table} WHERE bucket = $1 AND key = $2)"
            ))?,
            list: client.prepare(&format!(
                "SELECT key FROM {table} WHERE bucket = $1 ORDER BY key COLLATE \"C\" \
                 LIMIT $2 OFFSET $3"
            ))?,
        })
    }
}

/// Reads, writes and deletes a row in a transaction that is rolled back: proves that the
/// role holds every privilege the interface needs, and leaves nothing behind.
fn probe(client: &mut Client, statements: &Statements) -> Result<(), postgres::Error> {
    let (bucket, key) = ("compose check", "probe");
    let mut transaction = client.transaction()?;
    transaction.query_opt(&statements.get, &[&bucket, &key])?;
    transaction.execute(&statements.set, &[&bucket, &key, &b"".as_slice()])?;
    transaction.execute(&statements.delete, &[&bucket, &key])?;
    transaction.rollback()
}

/// A database error's own message (`password authentication failed for user "team_a"`),
/// or the client's with its cause (`error connecting to server: Connection refused`).
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_owned();
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

/// Runs `f` where the `postgres` client can run. The client drives a tokio runtime of its
/// own (`block_on`), which tokio refuses to start on a thread that is driving another (it
/// panics): a call from inside a runtime — a WASI 0.3 workload's store runs in one — runs
/// on a scoped thread of its own; any other call runs here. (`tokio-postgres` would need
/// async host functions, which a synchronous `wasi:keyvalue` call cannot await.)
fn outside_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// An open connection and its statements.
struct Connection {
    client: Client,
    statements: Statements,
}

/// One label's key-value data in PostgreSQL: a connection as the label's role.
pub struct PostgresStore {
    settings: Settings,
    /// `None` after the connection broke and could not be reopened yet.
    connection: Mutex<Option<Connection>>,
}

impl PostgresStore {
    /// Runs `f` on the connection, reopening it first if it broke; off any tokio runtime
    /// (see [`outside_runtime`]).
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client, &Statements) -> Result<R, postgres::Error> + Send,
    ) -> Result<R, Error> {
        outside_runtime(|| self.with_here(f))
    }

    /// [`PostgresStore::with`] on this thread.
    fn with_here<R>(
        &self,
        f: impl FnOnce(&mut Client, &Statements) -> Result<R, postgres::Error>,
    ) -> Result<R, Error> {
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
            *slot = None;
            let connection = self
                .settings
                .open()
                .map_err(|why| Error::Other(why.cause))?;
            *slot = Some(connection);
        }
        let Some(connection) = slot.as_mut() else {
            return Err(Error::Other("no connection".into()));
        };
        f(&mut connection.client, &connection.statements).map_err(|e| match e.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => Error::AccessDenied,
            _ => Error::Other(describe(&e)),
        })
    }
}

/// Closing the client blocks on its runtime too: off any tokio runtime as well.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let slot = self.connection.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(connection) = slot.take() {
            outside_runtime(move || drop(connection));
        }
    }
}

impl KeyValue for PostgresStore {
    fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.with(|client, statements| {
            let row = client.query_opt(&statements.get, &[&bucket, &key])?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), Error> {
        self.with(|client, statements| {
            client.execute(&statements.set, &[&bucket, &key, &value])?;
            Ok(())
        })
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), Error> {
        self.with(|client, statements| {
            client.execute(&statements.delete, &[&bucket, &key])?;
            Ok(())
        })
    }

    fn exists(&self, bucket: &str, key: &str) -> Result<bool, Error> {
        self.with(|client, statements| {
            Ok(client
                .query_one(&statements.exists, &[&bucket, &key])?
                .get(0))
        })
    }

    fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyResponse, Error> {
        let offset = i64::try_from(cursor.unwrap_or(0)).unwrap_or(i64::MAX);
        // One more than a page: whether there is a next page.
        let limit = PAGE_SIZE as i64 + 1;
        self.with(|client, statements| {
            let rows = client.query(&statements.list, &[&bucket, &limit, &offset])?;
            let mut keys: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
            let more = keys.len() > PAGE_SIZE;
            keys.truncate(PAGE_SIZE);
            Ok(KeyResponse {
                cursor: more.then(|| offset as u64 + PAGE_SIZE as u64),
                keys,
            })
        })
    }
}
